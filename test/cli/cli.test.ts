import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3 } from '../../local/s3/embedded';
import { startSimulator, type Simulator } from '../../local/simulator';
import { simulatedCredentials } from '../../local/simulator/credentials';

/* The `sps-workflows` command, spawned as a user runs it. */

const BIN = join(__dirname, '..', '..', 'local', 'cli', 'bin.js');

/** Working folders of the runs, removed after the suite. */
const folders: string[] = [];
const tempFolder = () => {
  folders.push(mkdtempSync(join(tmpdir(), 'cli-')));
  return folders.at(-1)!;
};
afterAll(() => {
  for (const f of folders) rmSync(f, { recursive: true, force: true });
});

function cli(args: string[], opts: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? tempFolder(),
      env: { ...process.env, FORCE_COLOR: '0', ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('sps-workflows CLI', () => {
  let sim: Simulator;
  let dir: string;
  beforeAll(async () => {
    // A fast clock: a 20-minute download takes seconds in real time under `run`'s real waits.
    sim = await startSimulator({
      appliances: [
        { name: 'sps-cli-1', fetchBytesPerSecond: 500_000_000, rebootSeconds: 20, bundleGenerateSeconds: 5 },
      ],
      timeScale: 50,
    });
    dir = tempFolder();
    const a = sim.appliances[0]!;
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ 'sps/sps-cli-1': simulatedCredentials(sim, a) }));
    const appliance = { name: a.name, endpoint: a.endpoint, credentialsSecretId: 'sps/sps-cli-1' };
    writeFileSync(
      join(dir, 'dry-run.json'),
      JSON.stringify({
        appliance,
        firmware: { url: 'https://downloads.example.internal/sps-8.0.1.iso', sha256: 'ab'.repeat(32) },
        options: { dryRun: true, polling: { minSeconds: 5, maxSeconds: 5 }, timeouts: { fetchMinutes: 60 } },
      }),
    );
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ appliance, firmware: { url: 'ftp://x', sha256: 'x' } }));
    writeFileSync(
      join(dir, 'bundle.json'),
      // Named alone: the credentials secret sps/sps-cli-1 names the endpoint.
      JSON.stringify({ appliance: a.name, options: { polling: { minSeconds: 5, maxSeconds: 5 } } }),
    );
  });
  afterAll(() => sim.close());

  it('runs a firmware dry run: progress on stderr, the output JSON on stdout, exit 0', async () => {
    const res = await cli(
      ['run', 'firmware-upgrade', '--input', join(dir, 'dry-run.json'), '--secrets', join(dir, 'secrets.json')],
      { cwd: dir },
    );
    expect(res.stderr).toContain('→ Precheck');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      appliance: 'sps-cli-1',
      outcome: 'dry-run-passed',
      slotId: expect.any(String),
    });
    const ids = sim.appliances[0]!.issuedSessionIds();
    expect(ids.length).toBeGreaterThan(0);
    const logDir = join(dir, '.sps-workflows', 'logs');
    const logs = readdirSync(logDir)
      .map((f) => readFileSync(join(logDir, f), 'utf8'))
      .join('\n');
    expect(logs).toContain('"operation":"test-firmware"');
    for (const secret of [sim.appliances[0]!.password, ...ids])
      expect(res.stdout + res.stderr + logs).not.toContain(secret);
  }, 60_000);

  it('archives a support bundle into the embedded S3 server', async () => {
    const res = await cli(
      ['run', 'support-bundle', '--input', join(dir, 'bundle.json'), '--secrets', join(dir, 'secrets.json')],
      { cwd: dir },
    );
    expect(res.stderr).toContain('embedded S3');
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const out = JSON.parse(res.stdout) as { bucket: string; sha256: string; bundleKey: string };
    expect(out.sha256).toBe(sim.appliances[0]!.expectedBundle(out.bundleKey).sha256);
  }, 60_000);

  describe('--s3-endpoint', () => {
    // Another S3-compatible server, reached as any would be: credentials from the AWS environment.
    const env = {
      AWS_ACCESS_KEY_ID: EMBEDDED_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMBEDDED_S3_CREDENTIALS.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
    const runAgainst = async (buckets: string[]) => {
      const s3 = await startEmbeddedS3({ directory: tempFolder(), buckets });
      try {
        const requestsBefore = sim.journal.entries().length;
        const res = await cli(
          ['run', 'support-bundle', '--input', join(dir, 'bundle.json'), '--secrets', join(dir, 'secrets.json')].concat(
            ['--s3-endpoint', s3.endpoint],
          ),
          { cwd: dir, env },
        );
        return { ...res, applianceRequests: sim.journal.entries().length - requestsBefore };
      } finally {
        await s3.close();
      }
    };

    it('archives into its sps-workflows-archive bucket when the input names none', async () => {
      const res = await runAgainst(['sps-workflows-archive']);
      expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(JSON.parse(res.stdout)).toMatchObject({ bucket: 'sps-workflows-archive' });
    }, 60_000);

    it('exits 2 before any request to the appliance when the bucket is not there', async () => {
      const res = await runAgainst(['another-bucket']);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        /bucket sps-workflows-archive cannot be used at http:\/\/127\.0\.0\.1:\d+ \(.+\): create it/,
      );
      expect(res.applianceRequests).toBe(0);
    }, 60_000);
  });

  it('exits 1 with the error name and cause on stderr when the execution fails', async () => {
    const res = await cli(
      ['run', 'firmware-upgrade', '--input', join(dir, 'bad.json'), '--secrets', join(dir, 'secrets.json')],
      { cwd: dir },
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(
      /✗ Input.Invalid: Invalid input: firmware.url: must be an http\(s\) URL; firmware.sha256/,
    );
  });

  it.each([
    [['run', 'nope', '--input', 'x.json']],
    [['run', 'firmware-upgrade']],
    [['run', 'firmware-upgrade', '--input', '/does/not/exist.json']],
    [['simulate', '--scenario', 'on-fire']],
    [['simulate', '--port', 'abc']],
    [['fly']],
  ])('exits 2 on a usage error: %j', async (args) => {
    const res = await cli(args);
    expect(res.code).toBe(2);
    expect(res.stderr).not.toBe('');
  });

  it('simulate prints the endpoint, CA file and credentials, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'simulate', '--scenario', 'happy'], {
      cwd: tempFolder(),
    });
    let stdout = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('Stop with Ctrl-C')) resolve();
      });
    });
    expect(stdout).toMatch(/endpoint {3}https:\/\/127\.0\.0\.1:\d+/);
    expect(stdout).toMatch(/CA file {4}\/.+ca\.pem/);
    expect(stdout).toMatch(/password {3}sim-[0-9a-f]{24}/);
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  }, 30_000);
});
