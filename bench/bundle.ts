import { buildSync } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLE_TARGET, RUNTIME_SDK_CLIENTS } from '../infra/functions';

export const BENCH_OUT = join(__dirname, '..', '.bench-out');

/** Bundles an entry the way the Lambda functions are bundled (minified CJS for Node 22). */
export function bundle(
  entry: string,
  name: string,
  extra: { metafile?: boolean } = {},
): { file: string; bytes: number } {
  mkdirSync(BENCH_OUT, { recursive: true });
  const outfile = join(BENCH_OUT, `${name}.js`);
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'cjs',
    minify: true,
    outfile,
    write: true,
    logLevel: 'silent',
    metafile: true,
    // As infra/constructs/sps-function.ts bundles them: the runtime's SDK clients stay external.
    external: [...RUNTIME_SDK_CLIENTS],
    ...extra,
  });
  const bytes = Object.values(result.metafile!.outputs)[0]!.bytes;
  return { file: outfile, bytes };
}
