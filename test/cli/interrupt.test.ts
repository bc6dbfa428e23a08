import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../local/simulator';
import { simulatedCredentials } from '../../local/simulator/credentials';

/*
 * Ctrl-C during `sps-workflows run`: the CLI, spawned as a user runs it, gets SIGINT while the
 * appliance (the simulator, in this process) works for the run; it must stop, clean up what the
 * run started there and exit 130.
 */

const BIN = join(__dirname, '..', '..', 'local', 'cli', 'bin.js');

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr when the first SIGINT was sent. */
  before: string;
}

/**
 * Runs the CLI and sends SIGINT once stderr matches `when`, or `when()` holds (and again once it
 * matches `again`, if given). Kills it after `timeoutMs`.
 */
function runAndInterrupt(
  args: string[],
  cwd: string,
  when: RegExp | (() => boolean),
  opts: { again?: RegExp; timeoutMs?: number } = {},
): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0' } });
    let stdout = '';
    let stderr = '';
    let before: string | undefined;
    let secondSent = false;
    const interrupt = () => {
      before = stderr;
      child.kill('SIGINT');
    };
    const watch =
      typeof when === 'function'
        ? setInterval(() => {
            if (before === undefined && when()) interrupt();
          }, 20)
        : undefined;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (before === undefined && typeof when !== 'function' && when.test(stderr)) {
        interrupt();
      } else if (before !== undefined && opts.again && !secondSent && opts.again.test(stderr.slice(before.length))) {
        secondSent = true;
        child.kill('SIGINT');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 18_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(watch);
      resolve({ code, signal, stdout, stderr, before: before ?? '' });
    });
  });
}

describe('sps-workflows run, interrupted (SIGINT)', () => {
  let sim: Simulator;
  const dir = mkdtempSync(join(tmpdir(), 'cli-interrupt-'));
  const secrets = join(dir, 'secrets.json');

  beforeAll(async () => {
    sim = await startSimulator({
      appliances: [
        // 1.5 GB at 1 MB/s: the download takes 25 simulated minutes, 2.5 real ones at ×10.
        { name: 'sps-int-fw', fetchBytesPerSecond: 1_000_000 },
        // An hour to generate a bundle: it is still being generated when the run is stopped.
        { name: 'sps-int-bundle', bundleGenerateSeconds: 3600 },
        { name: 'sps-int-hang', fetchBytesPerSecond: 1_000_000 },
        { name: 'sps-int-fleet-1', bundleGenerateSeconds: 3600 },
        { name: 'sps-int-fleet-2', bundleGenerateSeconds: 3600 },
        // A fleet upgrade's staging: both download (25 simulated minutes) when the run is stopped.
        { name: 'sps-int-stage-1', fetchBytesPerSecond: 1_000_000 },
        { name: 'sps-int-stage-2', fetchBytesPerSecond: 1_000_000 },
      ],
      timeScale: 10,
    });
    writeFileSync(
      secrets,
      JSON.stringify(Object.fromEntries(sim.appliances.map((a) => [`sps/${a.name}`, simulatedCredentials(sim, a)]))),
    );
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const firmwareInput = (name: string) => {
    const file = join(dir, `${name}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        appliance: name,
        firmware: { url: 'https://downloads.example.internal/sps-8.0.1.iso', sha256: 'ab'.repeat(32) },
        // A dry run: whatever happens, this test never asks for an upgrade.
        options: { dryRun: true, polling: { minSeconds: 5, maxSeconds: 5 }, timeouts: { fetchMinutes: 60 } },
      }),
    );
    return file;
  };

  it('cancels the firmware fetch it started, releases the appliance and exits 130', async () => {
    const appliance = sim.appliance('sps-int-fw');
    const res = await runAndInterrupt(
      ['run', 'firmware-upgrade', '--input', firmwareInput('sps-int-fw'), '--secrets', secrets],
      dir,
      /→ Fetch status/,
    );
    expect(res.before).toContain('→ Start fetch');
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('SIGINT: stopping execution');
    expect(res.stderr).toMatch(/✓ canceled firmware fetch [0-9a-f-]+ on sps-int-fw and removed its record/);
    expect(res.stderr).toContain('✓ appliance sps-int-fw released');
    expect(res.stderr).toContain('Nothing this run started is left running on sps-int-fw.');
    // Canceled, and its record removed: the appliance lists no fetch job.
    expect(appliance.state().fetchJobs).toEqual([]);
    const fetchRequests = sim.journal.for('sps-int-fw').filter((e) => e.path.startsWith('/api/firmware/fetch'));
    expect(fetchRequests.filter((e) => e.method === 'DELETE').map((e) => e.status)).toEqual([200, 200]);
  }, 20_000);

  it('deletes the support bundle being generated and exits 130', async () => {
    const appliance = sim.appliance('sps-int-bundle');
    const before = new Set(appliance.state().bundles.map((b) => b.key));
    const input = join(dir, 'bundle.json');
    writeFileSync(
      input,
      JSON.stringify({ appliance: 'sps-int-bundle', options: { polling: { minSeconds: 5, maxSeconds: 5 } } }),
    );
    const res = await runAndInterrupt(
      ['run', 'support-bundle', '--input', input, '--secrets', secrets],
      dir,
      /→ Bundle status/,
    );
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    const key = /deleted support bundle ([0-9a-f-]+) on sps-int-bundle \(its generation canceled\)/.exec(
      res.stderr,
    )?.[1];
    expect({ key, stderr: res.stderr }).toEqual({ key: expect.any(String), stderr: expect.any(String) });
    expect(res.stderr).toContain('✓ appliance sps-int-bundle released');
    // Ours is gone; nothing else was there.
    expect(appliance.state().bundles.filter((b) => !before.has(b.key))).toEqual([]);
  }, 20_000);

  it("stops a fleet run's children and deletes each one's bundle, naming the appliance", async () => {
    const fleet = ['sps-int-fleet-1', 'sps-int-fleet-2'].map((name) => sim.appliance(name));
    const input = join(dir, 'fleet.json');
    writeFileSync(
      input,
      JSON.stringify({
        workflow: 'support-bundle',
        appliances: ['sps-int-fleet-1', 'sps-int-fleet-2'],
        input: { options: { polling: { minSeconds: 5, maxSeconds: 5 } } },
        maxConcurrency: 2,
      }),
    );
    const res = await runAndInterrupt(['run', 'fleet-run', '--input', input, '--secrets', secrets], dir, () =>
      fleet.every((a) => a.state().bundles.length === 1),
    );
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(res.before).toContain('→ sps-int-fleet-1: support-bundle started');
    expect(res.stderr).toContain('Its 2 running appliance execution(s) were stopped too:');
    for (const name of ['sps-int-fleet-1', 'sps-int-fleet-2']) {
      expect(res.stderr).toMatch(
        new RegExp(`✓ deleted support bundle [0-9a-f-]+ on ${name} \\(its generation canceled\\)`),
      );
      expect(res.stderr).toContain(`✓ appliance ${name} released`);
    }
    expect(fleet.map((a) => a.state().bundles)).toEqual([[], []]);
  }, 20_000);

  it("stops a fleet upgrade's staging: every appliance's fetch is canceled, nothing upgraded", async () => {
    const stage = ['sps-int-stage-1', 'sps-int-stage-2'].map((name) => sim.appliance(name));
    const input = join(dir, 'rollout.json');
    writeFileSync(
      input,
      JSON.stringify({
        firmware: {
          url: 'https://downloads.example.internal/sps-8.0.1.iso',
          sha256: 'ab'.repeat(32),
          expectedVersion: '8.0.1',
        },
        appliances: ['sps-int-stage-1', 'sps-int-stage-2'],
        rollout: { canary: 0, maxConcurrency: 2 },
        options: { polling: { minSeconds: 5, maxSeconds: 5 }, timeouts: { fetchMinutes: 60 } },
      }),
    );
    const res = await runAndInterrupt(['run', 'fleet-upgrade', '--input', input, '--secrets', secrets], dir, () =>
      stage.every((a) => a.state().fetchJobs.some((j) => j.status === 'in-progress')),
    );
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(res.stderr).toContain('Its 2 running appliance execution(s) were stopped too:');
    expect(res.stderr.match(/✓ canceled firmware fetch/g) ?? []).toHaveLength(2);
    expect(stage.map((a) => a.state().fetchJobs.filter((j) => j.status === 'in-progress'))).toEqual([[], []]);
    expect(sim.journal.entries().filter((e) => e.path === '/api/firmware/upgrade')).toEqual([]);
  }, 20_000);

  it('exits 130 at once on a second SIGINT during the cleanup, naming what may still run', async () => {
    const appliance = sim.appliance('sps-int-hang');
    // The cleanup's DELETE gets no answer: the run would wait for it up to its bound (30 s).
    appliance.injectFault({ method: 'DELETE', path: /^\/api\/firmware\/fetch\//, kind: 'hang', times: 10 });
    const started = Date.now();
    const res = await runAndInterrupt(
      ['run', 'firmware-upgrade', '--input', firmwareInput('sps-int-hang'), '--secrets', secrets],
      dir,
      /→ Fetch status/,
      { again: /… canceling firmware fetch/ },
    );
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(Date.now() - started).toBeLessThan(15_000);
    const key = appliance.state().fetchJobs[0]?.key;
    expect(key).toEqual(expect.any(String));
    expect(res.stderr).toContain('SIGINT again: exiting without finishing the cleanup.');
    expect(res.stderr).toContain(`May still be running on sps-int-hang:\n  - firmware fetch ${key}`);
    expect(res.stderr).not.toContain('Interrupted in state');
    appliance.cancelFetches();
  }, 20_000);

  it('says nothing was changed when stopped before anything was asked of the appliance', async () => {
    const res = await runAndInterrupt(
      ['run', 'firmware-upgrade', '--input', firmwareInput('sps-int-fw'), '--secrets', secrets],
      dir,
      /execution local-/,
    );
    expect({ code: res.code, signal: res.signal }).toEqual({ code: 130, signal: null });
    expect(res.stderr).toMatch(/Nothing was changed on (sps-int-fw|the appliance)/);
    expect(sim.appliance('sps-int-fw').state().fetchJobs).toEqual([]);
  }, 20_000);
});
