import { causeMessage, type RunResult } from '../../local/engine/engine';
import type { ApplianceOptions } from '../../local/simulator';
import { SpsClient } from '../../lambdas/shared/sps/client';
import { simulatedCredentials } from '../../local/simulator/credentials';
import { expectNoSecrets, firmwareInput, refuseSecrets, startHarness, type Harness } from '../helpers/workflow';

const upgradePosted = (harness: Harness) =>
  harness.sim.journal.entries().some((e) => e.path === '/api/firmware/upgrade');

/*
 * The real firmware-upgrade ASL in the local engine, the real handlers, the simulator over HTTPS,
 * simulated time. One test per scenario; each checks the end, what the appliance was asked (its
 * journal), what is left on it, and that no secret leaked into history, logs or output.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function run(
  appliance: Partial<ApplianceOptions> = {},
  extra: Parameters<typeof firmwareInput>[1] = {},
  input?: unknown,
) {
  h = await startHarness([{ name: 'sps-sim-1', ...appliance }]);
  const result = await h.run('firmware-upgrade', input ?? firmwareInput(h, extra));
  expectNoSecrets(h, result);
  return {
    h,
    result,
    calls: h.sim.journal.entries().map((e) => `${e.method} ${e.path.replace(/[0-9a-f-]{36}/, '<key>')}`),
  };
}

const expectFailure = (result: RunResult, error: string, causePart?: string | RegExp) => {
  expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error });
  if (causePart) expect(causeMessage(result.cause)).toMatch(causePart);
};

/** The statuses of the fetch records left on the appliance. */
const fetchStatuses = (h: Harness) =>
  h.sim
    .appliance('sps-sim-1')
    .state()
    .fetchJobs.map((j) => j.status);

const states = (result: RunResult) => result.events.filter((e) => e.type === 'StateEntered').map((e) => e.state!.name);

describe('firmware upgrade', () => {
  it('upgrades: fetch, precheck, upgrade, reboot, proof of the new version', async () => {
    const { h, result, calls } = await run();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({
      appliance: 'sps-sim-1',
      outcome: 'upgraded',
      previousVersion: '7.5.1',
      version: '8.0.1',
      slotId: '2',
      testSummary: 'HA check started\nHA check finished',
      changes: {
        freedSlot: null,
        fetch: { key: expect.stringMatching(/^[0-9a-f-]{36}$/), reused: false },
        removedSlotId: null,
        upgradeRequested: true,
      },
      preflight: expect.objectContaining({ appliance: 'sps-sim-1', targetVersion: '8.0.1', verdict: 'pass' }),
    });
    const state = h.sim.appliance('sps-sim-1').state();
    // The record of the fetch this run started is removed once its slot is known.
    expect(state.fetchJobs).toEqual([]);
    expect(state.firmwareVersion).toBe('8.0.1');
    expect(state.slots.find((s) => s.current)).toMatchObject({ key: '2', version: '8.0.1' });
    expect(calls.filter((c) => c.startsWith('POST'))).toEqual([
      'POST /api/firmware/fetch',
      'POST /api/firmware/test',
      'POST /api/firmware/upgrade',
    ]);
    expect(calls.indexOf('POST /api/firmware/test')).toBeLessThan(calls.indexOf('POST /api/firmware/upgrade'));
    // The first read after the upgrade POST logs in afresh (it also reads the slots: the evidence).
    const journal = h.sim.journal.entries().map((e) => `${e.method} ${e.path}`);
    const posted = journal.indexOf('POST /api/firmware/upgrade');
    expect(journal.slice(posted + 1, posted + 4)).toEqual([
      'GET /api/authentication',
      'GET /api/info',
      'GET /api/firmware/slots',
    ]);
    // The reboot was seen (refused connections), then a fresh login proved the version and the slot.
    expect(h.sim.journal.entries().some((e) => e.status === 'refused' || e.status === 'reset')).toBe(true);
    const lastLogin = calls.lastIndexOf('GET /api/authentication');
    expect(calls.slice(lastLogin, lastLogin + 3)).toEqual([
      'GET /api/authentication',
      'GET /api/info',
      'GET /api/firmware/slots',
    ]);
    // Then the postcheck, with GETs only: what the preflight saw still holds.
    expect(calls.slice(lastLogin + 3).every((c) => c.startsWith('GET'))).toBe(true);
    expect(calls.slice(lastLogin + 3)).toContain('GET /api/plugin/integrity');
    // A lifecycle event carrying the output is published on success.
    expect(states(result).slice(-2)).toEqual(['Publish success', 'Succeeded']);
    expect(h.lifecycleEvents).toEqual([
      {
        Source: 'sps-workflows',
        DetailType: 'Firmware Upgrade Succeeded',
        Detail: { workflow: 'firmware-upgrade', executionArn: expect.any(String), result: result.output },
      },
    ]);
  });

  it('ends as already-current without any mutating call', async () => {
    const { result, calls } = await run({ scenario: 'already-current' });
    expect(result.output).toMatchObject({ outcome: 'already-current', previousVersion: '8.0.1', version: '8.0.1' });
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
  });

  it('never reinstalls: a replayed run without expectedVersion removes the copy it fetched and ends already-current', async () => {
    // The URL holds the version already running and no expectedVersion vouches for a reuse: the run
    // fetches under its own pin, finds the version it runs, and neither tests nor upgrades it.
    const { h, result, calls } = await run({ firmwareVersion: '8.0.1' }, { firmware: { expectedVersion: undefined } });
    expect(result.output).toEqual({
      appliance: 'sps-sim-1',
      outcome: 'already-current',
      previousVersion: '8.0.1',
      version: '8.0.1',
      slotId: null,
      testSummary: null,
      changes: {
        freedSlot: null,
        fetch: { key: expect.any(String), reused: false },
        removedSlotId: '2',
        upgradeRequested: false,
      },
      preflight: expect.objectContaining({ targetVersion: null, verdict: 'warn' }),
    });
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([
      'POST /api/firmware/fetch',
      'DELETE /api/firmware/slots/2',
      'DELETE /api/firmware/fetch/<key>',
    ]);
    const state = h.sim.appliance('sps-sim-1').state();
    expect(state.slots.filter((s) => s.version !== undefined)).toEqual([expect.objectContaining({ key: '1' })]);
    expect(state.fetchJobs).toEqual([]);
  });

  it('watches the reboot when the upgrade was carried out but its answer was lost, and proves it', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    h.sim.appliance('sps-sim-1').injectFault({ method: 'POST', path: '/api/firmware/upgrade', kind: 'lost-answer' });
    const result = await h.run('firmware-upgrade', firmwareInput(h));
    expectNoSecrets(h, result);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ outcome: 'upgraded', previousVersion: '7.5.1', version: '8.0.1' });
    const posts = h.sim.journal.entries().filter((e) => e.method === 'POST' && e.path === '/api/firmware/upgrade');
    expect(posts).toHaveLength(1);
  });

  it('ends in Sps.Timeout, never a second POST, when the upgrade request was lost before the appliance saw it', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    h.sim.appliance('sps-sim-1').injectFault({ method: 'POST', path: '/api/firmware/upgrade', kind: 'reset' });
    const result = await h.run('firmware-upgrade', firmwareInput(h));
    expectNoSecrets(h, result);
    expectFailure(
      result,
      'Sps.Timeout',
      /did not come back running 8.0.1 .*it runs 7.5.1; slot 2 was never seen set to boot next: the upgrade request may not have been carried out/,
    );
    const posts = h.sim.journal.entries().filter((e) => e.method === 'POST' && e.path === '/api/firmware/upgrade');
    expect(posts).toHaveLength(1);
    expect(h.sim.appliance('sps-sim-1').state().firmwareVersion).toBe('7.5.1');
  });

  it('stops after a passing precheck on a dry run', async () => {
    const { h, result, calls } = await run({}, { options: { dryRun: true } });
    expect(result.output).toMatchObject({ outcome: 'dry-run-passed', version: '7.5.1', slotId: '2' });
    expect(calls).toContain('POST /api/firmware/test');
    expect(calls).not.toContain('POST /api/firmware/upgrade');
    expect(h.sim.appliance('sps-sim-1').state().firmwareVersion).toBe('7.5.1');
  });

  it('fails with Sps.PrecheckFailed carrying the test summary and never upgrades', async () => {
    const { h, result, calls } = await run({ scenario: 'precheck-fails' });
    expectFailure(result, 'Sps.PrecheckFailed', /HA check failed\nStorage check: not enough free space/);
    expect(h.lifecycleEvents).toEqual([
      expect.objectContaining({
        DetailType: 'Firmware Upgrade Failed',
        Detail: expect.objectContaining({ appliance: 'sps-sim-1', error: 'Sps.PrecheckFailed' }),
      }),
    ]);
    expect(calls).not.toContain('POST /api/firmware/upgrade');
  });

  it('fails with Sps.FetchFailed and the appliance error text', async () => {
    const { result } = await run({ scenario: 'fetch-fails' });
    expectFailure(result, 'Sps.FetchFailed', /Connection refused/);
  });

  it('fails with Sps.NoEmptySlot before fetching', async () => {
    const { result, calls } = await run({ scenario: 'no-empty-slot' });
    expectFailure(result, 'Sps.NoEmptySlot', /no empty firmware slot.*slot 2 holds 7.0.1/);
    expect(calls).not.toContain('POST /api/firmware/fetch');
  });

  it('frees the oldest slot that is neither current nor after-reboot when asked', async () => {
    const { result, calls } = await run({ scenario: 'no-empty-slot' }, { options: { freeOldestSlot: true } });
    expect(result.output).toMatchObject({ outcome: 'upgraded', version: '8.0.1', slotId: '2' });
    expect(calls).toContain('DELETE /api/firmware/slots/2');
  });

  it('uses the slot an earlier run (a dry run) filled with the expected version instead of fetching again', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const first = await h.run('firmware-upgrade', firmwareInput(h, { options: { dryRun: true } }));
    expect(first.status).toBe('SUCCEEDED');
    h.sim.journal.clear();
    const second = await h.run('firmware-upgrade', firmwareInput(h, { options: { dryRun: true } }));
    expect(second.output).toMatchObject({ outcome: 'dry-run-passed', slotId: '2' });
    expect(h.sim.journal.entries().filter((e) => e.method === 'POST' && e.path === '/api/firmware/fetch')).toHaveLength(
      0,
    );
  });

  it('does not reuse a finished fetch whose slot a later fetch filled with another image', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    expect((await h.run('firmware-upgrade', firmwareInput(h, { options: { dryRun: true } }))).status).toBe('SUCCEEDED');
    // Slot 2 (8.0.1 from the URL above) is emptied on the appliance and refilled from another URL.
    const a = h.sim.appliance('sps-sim-1');
    const sps = new SpsClient({
      endpoint: a.endpoint,
      credentials: { username: a.username, password: a.password },
      caCertificate: h.sim.caPem,
    });
    await sps.deleteFirmwareSlot('2');
    const other = await h.run(
      'firmware-upgrade',
      firmwareInput(h, {
        firmware: { url: 'https://downloads.example.internal/sps-8.1.0.iso', expectedVersion: '8.1.0' },
        options: { dryRun: true },
      }),
    );
    expect(other.output).toMatchObject({ slotId: '2' });
    h.sim.journal.clear();
    const again = await h.run(
      'firmware-upgrade',
      firmwareInput(h, { options: { dryRun: true, freeOldestSlot: true } }),
    );
    expect(again.output).toMatchObject({ outcome: 'dry-run-passed' });
    expect(again.output).not.toMatchObject({ slotId: '2' });
    expect(h.sim.journal.entries().filter((e) => e.method === 'POST' && e.path === '/api/firmware/fetch')).toHaveLength(
      1,
    );
  });

  it('fails with Sps.VersionMismatch when the fetched firmware is not the expected version', async () => {
    const { result, calls } = await run({}, { firmware: { expectedVersion: '9.9.9' } });
    expectFailure(result, 'Sps.VersionMismatch', /holds 8.0.1, expected 9.9.9/);
    expect(calls).not.toContain('POST /api/firmware/test');
  });

  it('logs in again when the session expires mid-poll', async () => {
    const { result, calls } = await run({ scenario: 'session-expires' });
    expect(result.output).toMatchObject({ outcome: 'upgraded' });
    expect(calls.filter((c) => c === 'GET /api/authentication').length).toBeGreaterThan(3);
  });

  it('rides out a Secrets Manager outage of a few seconds: the steps that read the secret retry', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    let reads = 0;
    // Every other read of the credentials fails, as a throttled or briefly unreachable Secrets Manager does.
    const refused = refuseSecrets(h.deps.secrets, (id, write) => !write && id === 'sps/sps-sim-1' && ++reads % 2 === 1);
    const result = await h.run('firmware-upgrade', firmwareInput(h));
    expect(result.output).toMatchObject({ outcome: 'upgraded' });
    expect(refused()).toBeGreaterThan(0);
    expect(result.events.filter((e) => e.type === 'StateRetried')).toHaveLength(refused());
  });

  it('rides out a Secrets Manager outage during the reboot watch: a false failure after a real upgrade is the worst end', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    // The reboot watch logs in afresh and stores the session: the first two writes after the upgrade POST fail.
    const refused = refuseSecrets(h.deps.secrets, (_id, write) => write && upgradePosted(h!) && refused() < 2);
    const result = await h.run('firmware-upgrade', firmwareInput(h));
    expect(result.output).toMatchObject({ outcome: 'upgraded' });
    expect(refused()).toBe(2);
    expect(result.events.filter((e) => e.type === 'StateRetried' && e.state?.name === 'Reboot status')).toHaveLength(2);
  });

  it('rides out 5xx bursts on status polls', async () => {
    const { h, result } = await run({ scenario: 'flaky-5xx' });
    expect(result.output).toMatchObject({ outcome: 'upgraded' });
    expect(h.sim.journal.entries().filter((e) => e.status === 503).length).toBeGreaterThan(2);
  });

  it('rides out connection resets on status polls', async () => {
    const { h, result } = await run({ scenario: 'connection-resets' });
    expect(result.output).toMatchObject({ outcome: 'upgraded' });
    expect(h.sim.journal.entries().filter((e) => e.status === 'reset').length).toBeGreaterThan(2);
  });

  it('fails with Sps.Timeout when the reboot outlasts rebootMinutes', async () => {
    const { result } = await run({ scenario: 'slow-reboot' }, { options: { timeouts: { rebootMinutes: 20 } } });
    expectFailure(result, 'Sps.Timeout', /did not come back running 8.0.1/);
  });

  it('fails with Sps.Timeout and cancels the fetch when the download outlasts fetchMinutes', async () => {
    const { h, result, calls } = await run(
      { fetchBytesPerSecond: 100_000 },
      { options: { timeouts: { fetchMinutes: 30 } } },
    );
    expectFailure(result, 'Sps.Timeout', /did not finish in time/);
    // The first DELETE cancels the download, the second removes its record (vendor docs).
    expect(calls.filter((c) => c.startsWith('DELETE'))).toEqual([
      'DELETE /api/firmware/fetch/<key>',
      'DELETE /api/firmware/fetch/<key>',
    ]);
    expect(h.sim.appliance('sps-sim-1').state().fetchJobs).toEqual([]);
  });

  it('fails fast with Sps.AuthenticationFailed on a wrong password', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const a = h.sim.appliance('sps-sim-1');
    await h.secrets.put(
      'sps/sps-sim-1',
      JSON.stringify({ ...simulatedCredentials(h.sim, a), password: 'wrong-password' }),
    );
    const result = await h.run('firmware-upgrade', firmwareInput(h));
    expectFailure(result, 'Sps.AuthenticationFailed', /refused the login/);
    expect(h.sim.journal.entries().map((e) => e.path)).toEqual(['/api/authentication']);
    expect(JSON.stringify(result)).not.toContain('wrong-password');
  });

  it('fails fast with Sps.TlsError when the certificate is not trusted', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const a = h.sim.appliance('sps-sim-1');
    const { caCertificate: _ca, ...noCa } = simulatedCredentials(h.sim, a) as { caCertificate?: string };
    await h.secrets.put('sps/sps-sim-1', JSON.stringify(noCa));
    const result = await h.run('firmware-upgrade', firmwareInput(h));
    expectFailure(result, 'Sps.TlsError', /caCertificate/);
  });

  it('fails with Secrets.NotFound when the credentials secret is missing', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const input = firmwareInput(h);
    input.appliance.credentialsSecretId = 'sps/nope';
    const result = await h.run('firmware-upgrade', input);
    expectFailure(result, 'Secrets.NotFound', /"sps\/nope" does not exist/);
    expect(h.sim.journal.entries()).toEqual([]);
  });

  describe('the end game, as the appliance is documented', () => {
    const journalAfterUpgrade = (h: Harness) => {
      const journal = h.sim.journal.entries();
      return journal.slice(journal.findIndex((e) => e.method === 'POST' && e.path === '/api/firmware/upgrade') + 1);
    };

    it('logs in again when /api/info answers its anonymous view after a reboot it did not see', async () => {
      // A 5 s reboot between two polls: the old session is gone, /api/info answers 200 without
      // firmware_version. That means "log in again", never "running null".
      const { h, result } = await run({ rebootSeconds: 5 });
      expect(result.output).toMatchObject({ outcome: 'upgraded', version: '8.0.1' });
      const after = journalAfterUpgrade(h).map((e) => `${e.method} ${e.path} ${e.status}`);
      expect(after).not.toContain('- - refused');
      const anonymous = after.indexOf('GET /api/info 200', after.indexOf('GET /api/firmware/slots 200'));
      expect(after.slice(anonymous, anonymous + 3)).toEqual([
        'GET /api/info 200',
        'GET /api/authentication 200',
        'GET /api/info 200',
      ]);
    });

    it('hands a 502 page answering the upgrade POST over to the reboot watch, and proves the upgrade', async () => {
      const { h, result } = await run({ scenario: 'upgrade-502' });
      expect(result.output).toMatchObject({ outcome: 'upgraded', version: '8.0.1', slotId: '2' });
      const upgrades = h.sim.journal.entries().filter((e) => e.path === '/api/firmware/upgrade');
      expect(upgrades.map((e) => e.status)).toEqual([502]);
    });

    it('fails with Sps.UpgradeReverted as soon as the appliance comes back on the previous slot, not at the deadline', async () => {
      const { h, result } = await run({ scenario: 'upgrade-reverts' });
      expectFailure(
        result,
        'Sps.UpgradeReverted',
        /came back on the previous version 7\.5\.1 from its previous slot; slot 2 \(8\.0\.1\) is no longer set to boot/,
      );
      const journal = h.sim.journal.entries();
      const posted = Date.parse(journal.find((e) => e.path === '/api/firmware/upgrade')!.at);
      const lastSeen = Date.parse(journal.at(-1)!.at);
      expect(lastSeen - posted).toBeLessThan(15 * 60_000); // the reboot takes 5 minutes, the deadline is 45
      const state = h.sim.appliance('sps-sim-1').state();
      expect(state.firmwareVersion).toBe('7.5.1');
    });
  });

  describe("someone else's fetch", () => {
    it('with expectedVersion, follows a running fetch of the same URL instead of starting another, and leaves its record', async () => {
      const { h, result, calls } = await run({ scenario: 'foreign-fetch' });
      expect(result.output).toMatchObject({
        outcome: 'upgraded',
        version: '8.0.1',
        changes: { fetch: { key: expect.any(String), reused: true } },
      });
      expect(calls).not.toContain('POST /api/firmware/fetch');
      expect(calls.filter((c) => c.startsWith('DELETE'))).toEqual([]);
      expect(fetchStatuses(h)).toEqual(['finished']);
    });

    it('without expectedVersion, fetches under its own pin rather than trust bytes it cannot vouch for', async () => {
      const { result, calls } = await run(
        { scenario: 'foreign-fetch' },
        { firmware: { expectedVersion: undefined }, options: { dryRun: true } },
      );
      expect(result.output).toMatchObject({ outcome: 'dry-run-passed', changes: { fetch: { reused: false } } });
      expect(calls.filter((c) => c === 'POST /api/firmware/fetch')).toHaveLength(1);
    });

    it('fails with Sps.VersionMismatch when the followed fetch installs another version, and leaves it alone', async () => {
      const { h, result, calls } = await run({ scenario: 'foreign-fetch', foreignFetchVersion: '7.9.9' });
      expectFailure(result, 'Sps.VersionMismatch', /holds 7\.9\.9, expected 8\.0\.1/);
      expect(calls).not.toContain('POST /api/firmware/test');
      expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
      expect(fetchStatuses(h)).toEqual(['finished']);
    });

    it('never cancels the fetch it followed when the run fails', async () => {
      const { h, result, calls } = await run(
        { scenario: 'foreign-fetch', fetchBytesPerSecond: 100_000 },
        { options: { timeouts: { fetchMinutes: 30 } } },
      );
      expectFailure(result, 'Sps.Timeout', /did not finish in time/);
      expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
      expect(fetchStatuses(h)).toEqual(['in-progress']);
    });
  });

  it('a dry run never frees a slot, even with freeOldestSlot: Sps.NoEmptySlot names the slot a real run would free', async () => {
    const { h, result, calls } = await run(
      { scenario: 'no-empty-slot' },
      { options: { dryRun: true, freeOldestSlot: true } },
    );
    expectFailure(
      result,
      'Sps.NoEmptySlot',
      /a dry run frees no slot \(without dryRun, freeOldestSlot would delete slot 2, which holds 7\.0\.1\)/,
    );
    expect(calls.filter((c) => !c.startsWith('GET'))).toEqual([]);
    expect(
      h.sim
        .appliance('sps-sim-1')
        .state()
        .slots.filter((s) => s.version !== undefined),
    ).toHaveLength(4);
  });

  it('says in its output which slot it freed', async () => {
    const { result } = await run({ scenario: 'no-empty-slot' }, { options: { freeOldestSlot: true } });
    expect(result.output).toMatchObject({
      outcome: 'upgraded',
      changes: { freedSlot: { slotId: '2', version: '7.0.1' }, upgradeRequested: true },
    });
  });

  describe('credentials bound to their appliance', () => {
    it('upgrades an appliance named alone: its credentials secret names the endpoint', async () => {
      h = await startHarness([{ name: 'sps-sim-1' }]);
      const result = await h.run('firmware-upgrade', { ...firmwareInput(h), appliance: 'sps-sim-1' });
      expectNoSecrets(h, result);
      expect(result.output).toMatchObject({ appliance: 'sps-sim-1', outcome: 'upgraded', version: '8.0.1' });
    });

    it("never sends one appliance's credentials to another endpoint: Input.Invalid before any request", async () => {
      h = await startHarness([{ name: 'sps-sim-1' }, { name: 'sps-sim-2' }]);
      const input = firmwareInput(h);
      input.appliance.endpoint = h.sim.appliance('sps-sim-2').endpoint; // a real appliance, not the secret's
      const result = await h.run('firmware-upgrade', input);
      expectFailure(
        result,
        'Input.Invalid',
        /appliance\.endpoint: https:\/\/127\.0\.0\.1:\d+ is not the endpoint of credentials secret "sps\/sps-sim-1"/,
      );
      expect(h.sim.journal.entries()).toEqual([]);
      expect(states(result)).toEqual(['Validate input', 'Publish invalid input', 'Invalid input']);
    });

    it('refuses a plain http:// endpoint the secret does not allow explicitly, before any request', async () => {
      h = await startHarness([{ name: 'sps-sim-1' }], { protocol: 'http' });
      const a = h.sim.appliance('sps-sim-1');
      const { allowPlainHttp: _allowed, ...secret } = simulatedCredentials(h.sim, a) as { allowPlainHttp?: boolean };
      await h.secrets.put('sps/sps-sim-1', JSON.stringify(secret));
      const result = await h.run('firmware-upgrade', firmwareInput(h));
      expectFailure(result, 'Secrets.Invalid', /plain http:\/\/ endpoint.*"allowPlainHttp": true/);
      expect(h.sim.journal.entries()).toEqual([]);
    });
  });

  it('accepts an EventBridge event carrying the input in detail', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const event = {
      version: '0',
      id: 'e1',
      'detail-type': 'SPS Firmware Release',
      source: 'sps-workflows',
      detail: firmwareInput(h, { options: { dryRun: true } }),
    };
    const result = await h.run('firmware-upgrade', event);
    expect(result.output).toMatchObject({ outcome: 'dry-run-passed' });
  });

  it.each([
    ['no firmware', (x: ReturnType<typeof firmwareInput>) => ({ appliance: x.appliance }), 'firmware: required'],
    [
      'bad sha256',
      (x: ReturnType<typeof firmwareInput>) => ({ ...x, firmware: { ...x.firmware, sha256: 'abc' } }),
      'firmware.sha256',
    ],
    [
      'file URL',
      (x: ReturnType<typeof firmwareInput>) => ({ ...x, firmware: { ...x.firmware, url: 'file:///etc/shadow' } }),
      'firmware.url',
    ],
    [
      'endpoint with /api',
      (x: ReturnType<typeof firmwareInput>) => ({
        ...x,
        appliance: { ...x.appliance, endpoint: `${x.appliance.endpoint}/api` },
      }),
      'appliance.endpoint',
    ],
    [
      'misspelt option',
      (x: ReturnType<typeof firmwareInput>) => ({ ...x, options: { dryrun: true } }),
      'unknown field(s) dryrun',
    ],
    [
      'negative timeout',
      (x: ReturnType<typeof firmwareInput>) => ({ ...x, options: { timeouts: { rebootMinutes: -5 } } }),
      'options.timeouts.rebootMinutes',
    ],
    ['not an object', () => 'upgrade please', '(input)'],
  ])('rejects bad input (%s) with Input.Invalid before any request', async (_case, mutate, field) => {
    h = await startHarness([{ name: 'sps-sim-1' }]);
    const result = await h.run('firmware-upgrade', mutate(firmwareInput(h)));
    expectFailure(result, 'Input.Invalid', new RegExp(field.replace(/[.()]/g, '\\$&')));
    expect(h.sim.journal.entries()).toEqual([]);
    expect(states(result)).toEqual(['Validate input', 'Publish invalid input', 'Invalid input']);
  });
});
