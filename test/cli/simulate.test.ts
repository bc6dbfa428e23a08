import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The newcomer path: `simulate` prints commands that work as printed (from the checkout), with the
 * inputs and secrets it wrote, and takes its folder (secrets included) away when the terminal closes.
 */

const BIN = join(__dirname, '..', '..', 'local', 'cli', 'bin.js');

function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Stop with Ctrl-C')) resolve(out);
    });
    child.once('exit', (code) => reject(new Error(`simulate exited ${code}: ${out}`)));
  });
}

function run(args: string[], cwd: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('simulate writes ready inputs, prints run commands that work as printed, and removes its folder on SIGHUP', async () => {
  const simulator = spawn(process.execPath, [BIN, 'simulate', '--time-scale', '600']);
  const cwd = mkdtempSync(join(tmpdir(), 'sps-newcomer-'));
  try {
    const printed = await started(simulator);
    const command = /npx --no-install sps-workflows (run support-bundle --input (\S+) --secrets (\S+))/.exec(printed);
    expect(command).not.toBeNull();
    const [, , input, secrets] = command!;
    const folder = join(secrets!, '..');
    expect(JSON.parse(readFileSync(join(folder, 'upgrade.json'), 'utf8'))).toMatchObject({
      appliance: 'sps-sim-1',
      firmware: { expectedVersion: '8.0.1' },
    });
    const res = await run(command![1]!.split(' '), cwd);
    expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('Archive') });
    expect(JSON.parse(res.stdout)).toMatchObject({ appliance: 'sps-sim-1', bucket: 'sps-workflows-archive' });
    expect(existsSync(input!)).toBe(true);
    const exited = new Promise((resolve) => simulator.once('exit', resolve));
    simulator.kill('SIGHUP');
    await exited;
    expect(existsSync(folder)).toBe(false);
  } finally {
    simulator.kill('SIGKILL');
    rmSync(cwd, { recursive: true, force: true });
  }
}, 60_000);

it('simulate --fleet 2 --cluster 3 serves every appliance, writes a secret for each (with its cluster) and a fleet input, and stops on SIGTERM', async () => {
  const simulator = spawn(process.execPath, [
    BIN,
    'simulate',
    '--fleet',
    '2',
    '--cluster',
    '3',
    '--node-scenario',
    'sps-sim-cluster-2=reboot-never-returns',
  ]);
  try {
    const printed = await started(simulator);
    const names = [...printed.matchAll(/^ {2}appliance {2}(\S+)/gm)].map((m) => m[1]);
    expect(printed).toContain('appliance  sps-sim-cluster-2   (scenario reboot-never-returns)');
    const fleetInput = /--input (\S+fleet-upgrade\.json)/.exec(printed)![1]!;
    expect(JSON.parse(readFileSync(fleetInput, 'utf8'))).toMatchObject({ firmware: { expectedVersion: '8.0.1' } });
    const members = ['sps-sim-cluster-1', 'sps-sim-cluster-2', 'sps-sim-cluster-3'];
    expect(names).toEqual(['sps-sim-1', 'sps-sim-2', ...members]);
    expect(printed).toContain('cluster    sps-sim-cluster (central-management, search-master)');
    expect(printed).toContain('cluster    sps-sim-cluster (managed-host, search-local)');
    const secretsFile = /secrets +(\S+)/.exec(printed)![1]!;
    const secrets = JSON.parse(readFileSync(secretsFile, 'utf8')) as Record<
      string,
      { endpoint: string; cluster?: string }
    >;
    expect(Object.keys(secrets)).toEqual(names.map((n) => `sps/${n}`));
    for (const name of names) {
      const secret = secrets[`sps/${name}`]!;
      expect(secret.cluster).toBe(members.includes(name!) ? 'sps-sim-cluster' : undefined);
      expect(printed).toContain(`endpoint   ${secret.endpoint}`);
    }
    // Every node its own endpoint.
    expect(new Set(Object.values(secrets).map((s) => s.endpoint)).size).toBe(5);
    const exited = new Promise((resolve) => simulator.once('exit', resolve));
    simulator.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(secretsFile)).toBe(false);
  } finally {
    simulator.kill('SIGKILL');
  }
}, 60_000);

it.each([
  [['--fleet', '-1']],
  [['--fleet', '1.5']],
  [['--cluster', '1']],
  [['--cluster', 'three']],
  [['--fleet', '0']],
  [['--fleet', '2', '--appliances', '3']],
  [['--fleet', '1', '--node-scenario', 'sps-sim-9=precheck-fails']],
  [['--fleet', '1', '--node-scenario', 'sps-sim-1=no-such-scenario']],
])('simulate %j is a usage error: exit 2, nothing served', async (args) => {
  const res = await run(['simulate', ...args], tmpdir());
  expect(res.code).toBe(2);
  expect(res.stdout).not.toContain('appliance');
  expect(res.stderr).toMatch(/error/);
});
