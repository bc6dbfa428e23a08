import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3 } from '../../local/s3/embedded';
import { startSimulator, type Simulator } from '../../local/simulator';
import { simulatedCredentials } from '../../local/simulator/credentials';
import { closedPort } from '../helpers/ports';

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

/**
 * An environment without any AWS setup (no variables, files or instance metadata), as on a
 * laptop that never ran `aws configure`. Whatever is still sent goes to a closed port on loopback.
 */
const noAwsSetup = (endpoint: string) => ({
  PATH: process.env.PATH ?? '',
  HOME: tempFolder(),
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL: endpoint,
});

function cli(
  args: string[],
  opts: { timeoutMs?: number; cwd?: string; env?: Record<string, string>; bareEnv?: boolean } = {},
) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? tempFolder(),
      // bareEnv: only `env`, not this process's (which holds the test AWS setup).
      env: { ...(opts.bareEnv ? {} : process.env), FORCE_COLOR: '0', ...opts.env },
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
        { name: 'sps-cli-raid', scenario: 'raid-degraded' },
      ],
      timeScale: 50,
    });
    dir = tempFolder();
    const a = sim.appliances[0]!;
    writeFileSync(
      join(dir, 'secrets.json'),
      JSON.stringify(Object.fromEntries(sim.appliances.map((x) => [`sps/${x.name}`, simulatedCredentials(sim, x)]))),
    );
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

  it('runs a preflight: exit 0 with the report whatever its verdict', async () => {
    writeFileSync(join(dir, 'preflight.json'), JSON.stringify({ appliance: 'sps-cli-raid', targetVersion: '8.0.1' }));
    const res = await cli(
      ['run', 'preflight', '--input', join(dir, 'preflight.json'), '--secrets', join(dir, 'secrets.json')],
      { cwd: dir },
    );
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('→ Run the checks');
    const report = JSON.parse(res.stdout) as { verdict: string; checks: Array<{ id: string; verdict: string }> };
    expect(report.verdict).toBe('fail');
    expect(report.checks.find((c) => c.id === 'raid')).toMatchObject({ verdict: 'fail' });
  }, 60_000);

  it('archives a support bundle into the embedded S3 server', async () => {
    const res = await cli(
      ['run', 'support-bundle', '--input', join(dir, 'bundle.json'), '--secrets', join(dir, 'secrets.json')],
      { cwd: dir },
    );
    expect(res.stderr).toContain('embedded S3');
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const out = JSON.parse(res.stdout) as {
      bucket: string;
      key: string;
      bytes: number;
      sha256: string;
      bundleKey: string;
    };
    expect(out.sha256).toBe(sim.appliances[0]!.expectedBundle(out.bundleKey).sha256);
    // The demo's footer: where the bundle is, and a check of its bytes that holds.
    const onDisk = join('.sps-workflows', 's3', out.bucket, `${out.key}._S3rver_object`);
    expect(res.stderr).toContain(
      [
        `Stored s3://${out.bucket}/${out.key} (${out.bytes} bytes, sha256 ${out.sha256}).`,
        'The embedded S3 server keeps it on disk: verify it with',
        `  sha256sum '${onDisk}'`,
      ].join('\n'),
    );
    expect(
      createHash('sha256')
        .update(readFileSync(join(dir, onDisk)))
        .digest('hex'),
    ).toBe(out.sha256);
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
      const out = JSON.parse(res.stdout) as { bucket: string; key: string; bytes: number; sha256: string };
      expect(out).toMatchObject({ bucket: 'sps-workflows-archive' });
      expect(res.stderr).toMatch(
        new RegExp(
          `Stored s3://sps-workflows-archive/${out.key.replace(/[.]/g, '\\.')} \\(${out.bytes} bytes, sha256 ${out.sha256}\\)\\.\n` +
            `Verify it with \\(the sha256 must match\\):\n` +
            `  aws --endpoint-url 'http://127\\.0\\.0\\.1:\\d+' s3 cp 's3://sps-workflows-archive/${out.key.replace(/[.]/g, '\\.')}' - \\| sha256sum`,
        ),
      );
    }, 60_000);

    it('exits 2 before any request to the appliance when the bucket is not there', async () => {
      const res = await runAgainst(['another-bucket']);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(
        /bucket sps-workflows-archive cannot be used at http:\/\/127\.0\.0\.1:\d+ \(.+\): create it/,
      );
      expect(res.applianceRequests).toBe(0);
    }, 60_000);

    /** A run against `endpoint` in an environment that has only `setup` of the AWS variables. */
    const runWith = async (endpoint: string, setup: Record<string, string>) => {
      const requestsBefore = sim.journal.entries().length;
      const res = await cli(
        ['run', 'support-bundle', '--input', join(dir, 'bundle.json'), '--secrets', join(dir, 'secrets.json')].concat([
          '--s3-endpoint',
          endpoint,
        ]),
        { cwd: dir, bareEnv: true, env: { ...noAwsSetup(endpoint), ...setup } },
      );
      return { ...res, applianceRequests: sim.journal.entries().length - requestsBefore };
    };

    it.each([
      [
        'no region',
        { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
        /no AWS region set \(AWS_REGION\) for the S3 server at http:\/\/127\.0\.0\.1:\d+: set AWS_REGION \(us-east-1 suits most S3-compatible servers\)\n/,
      ],
      [
        'no credentials',
        { AWS_REGION: 'us-east-1' },
        /no AWS credentials found for the S3 server at http:\/\/127\.0\.0\.1:\d+: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the S3 server's keys\n/,
      ],
      [
        'neither',
        {},
        /no AWS region set \(AWS_REGION\) and no AWS credentials found for the S3 server at http:\/\/127\.0\.0\.1:\d+: set AWS_REGION .+, and AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
      ],
    ])(
      'exits 2 saying what the AWS environment lacks: %s',
      async (_case, setup, expected) => {
        const s3 = await startEmbeddedS3({ directory: tempFolder(), buckets: ['sps-workflows-archive'] });
        try {
          const res = await runWith(s3.endpoint, setup);
          expect({ code: res.code, applianceRequests: res.applianceRequests }).toEqual({
            code: 2,
            applianceRequests: 0,
          });
          expect(res.stderr).toMatch(expected);
          expect(res.stderr).not.toContain('create it');
        } finally {
          await s3.close();
        }
      },
      60_000,
    );

    it('exits 2 naming the endpoint when nothing listens there', async () => {
      const endpoint = `http://127.0.0.1:${await closedPort()}`;
      const res = await runWith(endpoint, { ...env });
      expect({ code: res.code, applianceRequests: res.applianceRequests }).toEqual({ code: 2, applianceRequests: 0 });
      expect(res.stderr).toContain(
        `sps-workflows: nothing listens at ${endpoint} (ECONNREFUSED): start the S3 server, or check --s3-endpoint's host and port\n`,
      );
      expect(res.stderr).not.toContain('create it');
    }, 60_000);
  });

  describe('messages that say what to change', () => {
    it('points at the line and column where an input file stops being JSON', async () => {
      writeFileSync(
        join(dir, 'trailing-comma.json'),
        '{\n  "appliance": "sps-cli-1",\n  "options": {"dryRun": true,}\n}\n',
      );
      const res = await cli(['run', 'firmware-upgrade', '--input', join(dir, 'trailing-comma.json')], { cwd: dir });
      expect(res.code).toBe(2);
      expect(res.stderr).toBe(
        `sps-workflows: input file ${join(dir, 'trailing-comma.json')} is not valid JSON: line 3, column 30: expected a property name in double quotes\n`,
      );
    });

    it('points into a secrets file that is not JSON without repeating what it holds', async () => {
      writeFileSync(join(dir, 'unquoted.json'), '{"sps/sps-cli-1": {\n  "password": hunter2-secret\n}}');
      const res = await cli(
        ['run', 'support-bundle', '--input', join(dir, 'bundle.json'), '--secrets', join(dir, 'unquoted.json')],
        { cwd: dir },
      );
      expect(res.code).toBe(2);
      expect(res.stderr).toContain(`secrets file ${join(dir, 'unquoted.json')} is not valid JSON: line 2, column 15:`);
      expect(res.stderr).not.toContain('hunter2');
    });

    it.each([
      ['no AWS credentials', { AWS_REGION: 'us-east-1' }, 'no AWS credentials found'],
      ['no AWS setup at all', {}, 'no AWS region set (AWS_REGION) and no AWS credentials found'],
    ])('without --secrets and with %s, it says so and points to --secrets', async (_case, setup, missing) => {
      const res = await cli(['run', 'firmware-upgrade', '--input', join(dir, 'dry-run.json')], {
        cwd: dir,
        bareEnv: true,
        env: { ...noAwsSetup(`http://127.0.0.1:${await closedPort()}`), ...setup },
      });
      expect(res.code).toBe(2);
      expect(res.stderr).toBe(
        `sps-workflows: ${missing}: without --secrets the appliance's credentials are read from Secrets Manager; pass --secrets FILE for a local run (sps-workflows simulate writes one)\n`,
      );
    });

    it('without --secrets, when Secrets Manager does not answer, it names the network error', async () => {
      const res = await cli(['run', 'firmware-upgrade', '--input', join(dir, 'dry-run.json')], {
        cwd: dir,
        bareEnv: true,
        env: {
          ...noAwsSetup(`http://127.0.0.1:${await closedPort()}`),
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        '✗ Secrets.Unavailable: Cannot read secret "sps/sps-cli-1": Secrets Manager cannot be reached (ECONNREFUSED)\n',
      );
    }, 60_000);

    /** A support-bundle run whose credentials secret names `endpoint`. */
    const runAt = async (endpoint: string, extra: Record<string, unknown> = {}) => {
      const secrets = join(tempFolder(), 'secrets.json');
      const credentials = simulatedCredentials(sim, sim.appliances[0]!) as Record<string, unknown>;
      writeFileSync(secrets, JSON.stringify({ 'sps/sps-cli-1': { ...credentials, endpoint, ...extra } }));
      const res = await cli(['run', 'support-bundle', '--input', join(dir, 'bundle.json'), '--secrets', secrets], {
        cwd: dir,
      });
      expect(res.stdout + res.stderr).not.toContain(sim.appliances[0]!.password);
      return res;
    };

    it('names the host and port when nothing listens there (the simulator not running)', async () => {
      const port = await closedPort();
      const res = await runAt(`https://127.0.0.1:${port}`);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `✗ Sps.ConnectionError: GET /api/authentication: nothing listens on 127.0.0.1:${port} (ECONNREFUSED): check the endpoint's host and port, and that the appliance (or the simulator) is running\n`,
      );
    }, 60_000);

    it('says to use https:// when an http:// endpoint meets the HTTPS appliance', async () => {
      const endpoint = sim.appliances[0]!.endpoint.replace(/^https:/, 'http:');
      const res = await runAt(endpoint, { allowPlainHttp: true });
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(
        `✗ Sps.ConnectionError: GET /api/authentication: ${new URL(endpoint).host} closed the connection without answering (UND_ERR_SOCKET): if the endpoint is http://, the appliance speaks HTTPS there: use https://\n`,
      );
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
