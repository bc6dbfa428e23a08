'use strict';
/*
 * The `sps-workflows` command, built ahead of time: local/cli/main.ts and the sources it imports
 * bundled by esbuild into one CommonJS file (packages stay in node_modules), so a command starts
 * without compiling TypeScript. The bundle is cached under .sps-workflows/cli/, named after a hash
 * of the files it was built from; a changed, added or removed source gives another name and a
 * rebuild (a fraction of a second) on the next start. No install step is involved: a fresh clone
 * builds on its first command.
 */
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } = require('node:fs');
const { basename, join, relative } = require('node:path');

const ROOT = join(__dirname, '..', '..');
// Two levels below the root, as local/engine/ is: `__dirname`-relative paths in the sources (the
// statemachines/ folder) resolve to the same place from the bundle.
const OUT_DIR = join(ROOT, '.sps-workflows', 'cli');
const INPUTS_FILE = join(OUT_DIR, 'inputs.json');
/** Files that shape the bundle besides the sources esbuild reads. */
const BUILD_INPUTS = [relative(ROOT, __filename), 'tsconfig.json', 'node_modules/esbuild/package.json'];

/** A hash of the files (paths relative to the root) and their contents; a missing file counts too. */
function keyOf(inputs) {
  const hash = createHash('sha256');
  for (const file of [...new Set([...inputs, ...BUILD_INPUTS])].sort()) {
    hash.update(`${file}\0`);
    try {
      hash.update(readFileSync(join(ROOT, file)));
    } catch {
      hash.update('\0missing');
    }
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const bundleFile = (key) => join(OUT_DIR, `main-${key}.js`);

/** Writes through a temporary file and a rename: a process starting meanwhile never reads half a file. */
function writeAtomically(file, contents) {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

/** Builds the bundle from the current sources and returns its path. */
function buildCli() {
  const { buildSync } = require('esbuild');
  const result = buildSync({
    absWorkingDir: ROOT,
    entryPoints: ['local/cli/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    outfile: join(OUT_DIR, 'main.js'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const file = bundleFile(keyOf(inputs));
  mkdirSync(OUT_DIR, { recursive: true });
  for (const output of result.outputFiles) {
    if (output.path.endsWith('.map')) writeAtomically(`${file}.map`, output.contents);
    else
      writeAtomically(
        file,
        output.text.replace(/\/\/# sourceMappingURL=main\.js\.map\s*$/, `//# sourceMappingURL=${basename(file)}.map\n`),
      );
  }
  writeAtomically(INPUTS_FILE, `${JSON.stringify(inputs, null, 1)}\n`);
  // Earlier builds go; one another process is loading right now is rebuilt by it (see bin.js).
  for (const name of readdirSync(OUT_DIR)) {
    if (/^main-[0-9a-f]+\.js(\.map)?$/.test(name) && !name.startsWith(basename(file))) {
      rmSync(join(OUT_DIR, name), { force: true });
    }
  }
  return file;
}

/** The path of a bundle built from the current sources: the cached one, or a new build. */
function cliBundle() {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(INPUTS_FILE, 'utf8'));
  } catch {
    return buildCli();
  }
  const file = bundleFile(keyOf(inputs));
  return existsSync(file) ? file : buildCli();
}

module.exports = { buildCli, cliBundle, OUT_DIR };
