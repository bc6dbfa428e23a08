import { causeMessage, type RunResult } from '../../local/engine/engine';
import type { ApplianceOptions } from '../../local/simulator';
import type { ScenarioName } from '../../local/simulator/scenarios';
import type { Check } from '../../lambdas/shared/preflight';
import { expectNoSecrets, firmwareInput, startHarness, type Harness } from '../helpers/workflow';

/*
 * The preflight in the local engine against the simulator: the standalone workflow (a report,
 * whatever the verdict) and the upgrade's gate (a failed check ends the run before any change).
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Requests that change something on the appliance. */
const mutating = (harness: Harness) =>
  harness.sim.journal
    .entries()
    .filter((e) => e.method !== 'GET' && !e.path.startsWith('/api/authentication'))
    .map((e) => `${e.method} ${e.path}`);

async function preflight(appliance: Partial<ApplianceOptions> = {}, input: Record<string, unknown> = {}) {
  h = await startHarness([{ name: 'sps-sim-1', ...appliance }]);
  const result = await h.run('preflight', { appliance: h.ref(), targetVersion: '8.0.1', ...input });
  expectNoSecrets(h, result);
  expect(mutating(h)).toEqual([]);
  return result;
}

const report = (result: RunResult) => result.output as { verdict: string; checks: Check[]; roles: string[] };
const checkOf = (result: RunResult, id: string) => report(result).checks.find((c) => c.id === id);

describe('preflight workflow', () => {
  it('reports every check of a healthy appliance as pass, with GETs only', async () => {
    const result = await preflight();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      appliance: 'sps-sim-1',
      version: '7.5.1',
      targetVersion: '8.0.1',
      roles: [],
      verdict: 'pass',
    });
    expect(report(result).checks.filter((c) => c.verdict !== 'pass')).toEqual([]);
    expect(h!.lifecycleEvents.map((e) => e.DetailType)).toEqual(['Preflight Checked']);
  });

  // [scenario, check, verdict, summary part]
  it.each<[ScenarioName, string, string, string]>([
    ['low-disk', 'disk-space', 'fail', 'only 5 % of the disk is free'],
    ['firmware-corrupted', 'firmware-integrity', 'fail', 'core CORRUPTED'],
    ['raid-degraded', 'raid', 'fail', 'RAID status DEGRADED'],
    ['sessions-active', 'active-sessions', 'pass', '5 session(s) in progress'],
    ['no-backup-policy', 'backup-policy', 'fail', 'no system backup policy'],
    ['plugin-out-of-range-in-use', 'plugins-compatible', 'fail', 'in use'],
    ['plugin-out-of-range-unused', 'plugins-compatible', 'warn', 'unused'],
    ['plugin-integrity-failed', 'plugin-integrity', 'fail', 'zip_content failed'],
    ['starling-warning', 'integrated-products', 'warn', 'cannot be retrieved'],
    ['no-health-status', 'disk-space', 'unknown', 'not offered by this firmware (404)'],
    ['no-config-privilege', 'backup-policy', 'unknown', '403'],
    ['cluster-member', 'cluster-membership', 'fail', 'roles managed-host, search-minion'],
  ])('%s: %s is %s, and the run still succeeds with the report', async (scenario, id, verdict, summary) => {
    const result = await preflight({ scenario });
    expect(result.status).toBe('SUCCEEDED');
    expect(checkOf(result, id)).toEqual({ id, verdict, summary: expect.stringContaining(summary) });
    expect(report(result).verdict).toBe(verdict === 'pass' ? 'pass' : verdict === 'fail' ? 'fail' : 'warn');
  });

  it('fails active-sessions above maxActiveSessions', async () => {
    const result = await preflight({ scenario: 'sessions-active' }, { options: { maxActiveSessions: 4 } });
    expect(checkOf(result, 'active-sessions')).toMatchObject({ verdict: 'fail' });
  });

  it('reports the plugin checks unknown without a target version', async () => {
    const result = await preflight({ scenario: 'plugin-out-of-range-in-use' }, { targetVersion: undefined });
    expect(checkOf(result, 'plugins-compatible')).toMatchObject({ verdict: 'unknown' });
  });

  it('fails only when it could not check: bad input before any request, a refused login', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const bad = await h.run('preflight', { appliance: h.ref(), options: { minFreeDiskPercent: 101 } });
    expect({ status: bad.status, error: bad.error }).toEqual({ status: 'FAILED', error: 'Input.Invalid' });
    expect(causeMessage(bad.cause)).toContain('options.minFreeDiskPercent: must be an integer from 0 to 100');
    expect(h.sim.journal.entries()).toEqual([]);
    const credentials = JSON.parse((await h.secrets.get('sps/sps-sim-1'))!) as Record<string, unknown>;
    await h.secrets.put('sps/sps-sim-1', JSON.stringify({ ...credentials, password: 'not-the-password' }));
    const refused = await h.run('preflight', { appliance: h.ref() });
    expect({ status: refused.status, error: refused.error }).toEqual({
      status: 'FAILED',
      error: 'Sps.AuthenticationFailed',
    });
  });
});

describe('the upgrade gate', () => {
  async function upgrade(appliance: Partial<ApplianceOptions>, options: Record<string, unknown> = {}) {
    h = await startHarness([{ name: 'sps-sim-1', ...appliance }]);
    const result = await h.run('firmware-upgrade', firmwareInput(h, { options }));
    expectNoSecrets(h, result);
    return result;
  }

  it('ends with Sps.PreflightFailed before any change when a check fails (enforce, the default)', async () => {
    const result = await upgrade({ scenario: 'raid-degraded' });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'Sps.PreflightFailed' });
    expect(causeMessage(result.cause)).toMatch(
      /fails the upgrade checklist for 8\.0\.1 \(nothing was changed\): raid: RAID status DEGRADED/,
    );
    expect(mutating(h!)).toEqual([]);
  });

  it.each<[ScenarioName, string]>([
    ['low-disk', 'disk-space'],
    ['firmware-corrupted', 'firmware-integrity'],
    ['no-backup-policy', 'backup-policy'],
    ['plugin-out-of-range-in-use', 'plugins-compatible'],
    ['plugin-integrity-failed', 'plugin-integrity'],
    ['cluster-member', 'cluster-membership'],
  ])('%s: the gate stops the upgrade at %s, with zero mutating calls', async (scenario, id) => {
    const result = await upgrade({ scenario });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'Sps.PreflightFailed' });
    expect(causeMessage(result.cause)).toContain(`${id}: `);
    expect(mutating(h!)).toEqual([]);
    expect(h!.lifecycleEvents.map((e) => e.DetailType)).toEqual(['Firmware Upgrade Failed']);
  });

  it.each<ScenarioName>(['plugin-out-of-range-unused', 'starling-warning', 'no-health-status', 'no-config-privilege'])(
    '%s: only warns, and the upgrade goes through',
    async (scenario) => {
      const result = await upgrade({ scenario });
      expect(result.status).toBe('SUCCEEDED');
      expect(result.output).toMatchObject({ outcome: 'upgraded', preflight: { verdict: 'warn' } });
    },
  );

  it('goes on with warn, and the report is the output preflight field', async () => {
    const result = await upgrade({ scenario: 'no-backup-policy' }, { preflight: 'warn' });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      outcome: 'upgraded',
      preflight: {
        verdict: 'fail',
        checks: expect.arrayContaining([expect.objectContaining({ id: 'backup-policy', verdict: 'fail' })]),
      },
    });
  });

  it('reads nothing of the checklist with off', async () => {
    const result = await upgrade({ scenario: 'raid-degraded' }, { preflight: 'off' });
    expect(result.status).toBe('SUCCEEDED');
    expect((result.output as { preflight: unknown }).preflight).toBeNull();
    expect(h!.sim.journal.entries().filter((e) => e.path === '/api/health_status')).toEqual([]);
  });

  it('refuses to upgrade when the configuration changed after the preflight (config_hash)', async () => {
    const result = await upgrade({ scenario: 'config-changes' });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'Sps.PreflightFailed' });
    expect(causeMessage(result.cause)).toContain('changed after the preflight (config_hash');
    expect(mutating(h!).filter((c) => c.includes('/api/firmware/upgrade'))).toEqual([]);
  });

  it('fails the postcheck when an integrated product is no longer activated after the upgrade', async () => {
    h = await startHarness([
      { name: 'sps-sim-1', integratedProducts: [{ name: 'Starling', link: null, activated: true }] },
    ]);
    const appliance = h.sim.appliance('sps-sim-1');
    const result = await h.run('firmware-upgrade', firmwareInput(h), () => {
      // Once the upgrade was requested, the product is lost (what a bad upgrade would do).
      if (h!.sim.journal.entries().some((e) => e.path === '/api/firmware/upgrade')) appliance.setIntegratedProducts([]);
    });
    expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error: 'Sps.PostcheckFailed' });
    expect(causeMessage(result.cause)).toMatch(/runs 8\.0\.1, but .*no longer activated: Starling/);
  });
});
