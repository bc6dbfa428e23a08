import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { WORKFLOW_HELP } from '../../local/cli/main';
import { WORKFLOWS } from '../../local/run/run';

/* `sps-workflows --help` and `run --help`, spawned as a user runs them, and how the command starts. */

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'local', 'cli', 'bin.js');

async function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sps-workflows run --help', () => {
  let help: string;
  beforeAll(async () => {
    const res = await cli(['run', '--help']);
    expect(res.code).toBe(0);
    help = res.stdout;
  });

  it('describes every workflow run accepts', () => {
    expect(Object.keys(WORKFLOW_HELP).sort()).toEqual([...WORKFLOWS].sort());
  });

  it.each(WORKFLOWS)('shows an example command for %s, and where its handler logs go', (workflow) => {
    expect(help).toContain(`npx --no-install sps-workflows run ${workflow} --input `);
    expect(help).toContain(`handler logs: .sps-workflows/logs/${workflow}-<execution>.jsonl`);
  });

  it('lists the exit codes', () => {
    expect(help).toMatch(/^ {2}0 +the execution succeeded/m);
    expect(help).toMatch(/^ {2}1 +the execution failed \(error name and cause on stderr\)/m);
    expect(help).toMatch(/^ {2}2 +usage error/m);
    expect(help).toMatch(/^ {2}130 +interrupted by Ctrl-C/m);
  });

  it('says what --secrets holds', () => {
    expect(help).toContain('{"sps/<name>": {"endpoint": ');
    for (const field of ['"username"', '"password"', '"caCertificate"']) expect(help).toContain(field);
  });

  it.each(Object.entries(WORKFLOW_HELP))(
    'when the %s example is run as printed, the command line is accepted (it then needs the files)',
    async (_workflow, { example }) => {
      const cwd = mkdtempSync(join(tmpdir(), 'help-'));
      try {
        const res = await cli(example.split(' ').slice(3), cwd);
        expect(res.code).toBe(2);
        expect(res.stderr).toMatch(/^sps-workflows: cannot read input file \w+\.json$/m);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    },
  );
});

describe('Start-up', () => {
  it('when asked for --help, it loads neither the AWS SDK, the engine nor the simulator', async () => {
    const probe = `process.on('exit', () => process.stderr.write(JSON.stringify(Object.keys(require.cache))));
      process.argv.splice(1, 0, 'bin');
      require(${JSON.stringify(BIN)});`;
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['-e', probe, '--', '--help']);
    expect(stdout).toContain('Usage: sps-workflows');
    const loaded = JSON.parse(stderr.slice(stderr.indexOf('['))) as string[];
    expect(loaded.filter((m) => /@aws-sdk|aws-local-stepfunctions|s3rver|undici/.test(m))).toEqual([]);
  });

  describe('in a fresh checkout', () => {
    // A copy of the sources (node_modules linked): its bundle cache starts empty.
    let checkout: string;
    let build: { cliBundle(): string };
    beforeAll(async () => {
      checkout = mkdtempSync(join(tmpdir(), 'checkout-'));
      for (const entry of ['local', 'lambdas', 'statemachines', 'package.json', 'tsconfig.json']) {
        cpSync(join(ROOT, entry), join(checkout, entry), { recursive: true });
      }
      symlinkSync(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
      build = await import(join(checkout, 'local', 'cli', 'build.js'));
    });
    afterAll(() => rmSync(checkout, { recursive: true, force: true }));

    it('builds the CLI on the first command, reuses it, and rebuilds it when a source changes', () => {
      // Act
      const first = build.cliBundle();
      const again = build.cliBundle();
      const source = join(checkout, 'local', 'run', 'progress.ts');
      const text = readFileSync(source, 'utf8');
      writeFileSync(source, `${text}\n// changed\n`);
      const changed = build.cliBundle();
      writeFileSync(source, text);
      const reverted = build.cliBundle();
      // Assess
      expect(first.startsWith(join(checkout, '.sps-workflows', 'cli'))).toBe(true);
      expect(again).toBe(first);
      expect(changed).not.toBe(first);
      expect(basename(reverted)).toBe(basename(first));
      expect(readFileSync(reverted, 'utf8')).not.toContain('// changed');
    });

    it('runs a workflow from the built bundle, reading the state machines of that checkout', async () => {
      // Prepare: an input the first state rejects, so nothing goes over the network.
      writeFileSync(join(checkout, 'bad.json'), '{"appliance": 1}');
      writeFileSync(join(checkout, 'secrets.json'), '{}');
      // Act
      const run = promisify(execFile)(
        process.execPath,
        [
          join(checkout, 'local', 'cli', 'bin.js'),
          'run',
          'firmware-upgrade',
          '--input',
          'bad.json',
          '--secrets',
          'secrets.json',
        ],
        { cwd: checkout },
      );
      // Assess
      await expect(run).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/→ Validate input\n(.|\n)*✗ Input\.Invalid: /),
      });
    });
  });
});
