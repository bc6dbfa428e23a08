import { GetObjectCommand } from '@aws-sdk/client-s3';
import { RELEASE_EVENT } from '../../lambdas/operations/catalog';
import {
  type ApprovalAnswer,
  type ApprovalRequest,
  type RunResult,
  type WorkflowName,
} from '../../local/engine/engine';
import { clusterAppliances, type ApplianceOptions } from '../../local/simulator';
import type { ScenarioName } from '../../local/simulator/scenarios';
import { BUCKET, FIRMWARE_URL, refuseSecrets, runFleet, SHA256, startHarness, type Harness } from '../helpers/workflow';

/*
 * Fleet upgrades in the local engine: the real fleet-upgrade ASL, its staging fleet run and one
 * child firmware-upgrade execution per appliance, against simulated standalone appliances and
 * clusters. Order and concurrency are read from the simulator's journal.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const firmware = { url: FIRMWARE_URL, sha256: SHA256, expectedVersion: '8.0.1' };
const standalone = (n: number, extra: Partial<ApplianceOptions> = {}) =>
  Array.from({ length: n }, (_, i) => ({ name: `sps-${i + 1}`, ...extra }));
/** A cluster with one node given a scenario of its own. */
const clusterWith = (name: string, size: number, node: string, scenario: ScenarioName) =>
  clusterAppliances(name, size).map((a) => (a.name === node ? { ...a, scenario } : a));

interface FleetRun {
  result: RunResult;
  children: Array<{ workflow: WorkflowName; appliance: string }>;
  requests: ApprovalRequest[];
}

/** Runs a fleet upgrade; `approve` answers each approval request (none: it times out). */
async function fleetUpgrade(
  harness: Harness,
  input: unknown,
  approve?: (request: ApprovalRequest) => ApprovalAnswer,
): Promise<FleetRun> {
  const requests: ApprovalRequest[] = [];
  const run = await runFleet(harness, 'fleet-upgrade', input, {
    ...(approve && {
      onApprovalRequest: async (request) => {
        requests.push(request);
        return approve(request);
      },
    }),
  });
  const children = run.children.map(({ workflow, input: childInput }) => {
    const appliance = (childInput as { appliance?: unknown }).appliance;
    return { workflow, appliance: typeof appliance === 'string' ? appliance : JSON.stringify(appliance) };
  });
  return { result: run.result, children, requests };
}

const expectFailure = (result: RunResult, error: string) =>
  expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error });

/** Each appliance's upgrade, from the journal: from its upgrade POST to its last request. */
function upgrades(harness: Harness): Array<{ appliance: string; from: number; to: number }> {
  const entries = harness.sim.journal.entries();
  return entries
    .filter((e) => e.method === 'POST' && e.path === '/api/firmware/upgrade')
    .map((post) => ({
      appliance: post.appliance,
      from: post.seq,
      to: Math.max(...entries.filter((e) => e.appliance === post.appliance).map((e) => e.seq)),
    }));
}

/** The most upgrades running at once among `names`. */
function mostAtOnce(list: ReturnType<typeof upgrades>, names: (n: string) => boolean): number {
  const mine = list.filter((u) => names(u.appliance));
  return Math.max(0, ...mine.map((u) => mine.filter((o) => o.from <= u.from && u.from <= o.to).length));
}

const summaryOf = (result: RunResult) => (result.output as { summary: Record<string, number> }).summary;
const rowsOf = (result: RunResult) =>
  (result.output as { appliances: Array<{ name: string; outcome: string }> }).appliances.map(
    (a) => `${a.name} ${a.outcome}`,
  );
/** Requests that change something (logins aside), on every simulated appliance. */
const mutating = (harness: Harness) =>
  harness.sim.journal.entries().filter((e) => e.method !== 'GET' && !e.path.startsWith('/api/authentication'));

describe('fleet upgrade', () => {
  it("upgrades the canary, the standalone appliances maxConcurrency at a time, and the cluster one node at a time in the vendor's order", async () => {
    h = await startHarness([...standalone(5), ...clusterAppliances('east', 4)], { s3: true });
    const { result, children } = await fleetUpgrade(h, { firmware, rollout: { canary: 1, maxConcurrency: 2 } });
    expect(result.status).toBe('SUCCEEDED');
    expect(summaryOf(result)).toEqual({ upgraded: 9, alreadyCurrent: 0, dryRunPassed: 0, failed: 0, notStarted: 0 });
    for (const a of h.sim.appliances) expect(a.state().firmwareVersion).toBe('8.0.1');

    // Staged first: one fleet run of dry runs, then one upgrade per appliance.
    expect(children.filter((c) => c.workflow === 'fleet-run')).toHaveLength(1);
    const upgradesRun = children.filter((c) => c.workflow === 'firmware-upgrade').map((c) => c.appliance);
    expect(upgradesRun).toHaveLength(18);
    const list = upgrades(h);
    // The canary first, before any other upgrade started.
    expect(list[0]!.appliance).toBe('sps-1');
    expect(list.slice(1).every((u) => u.from > list[0]!.to)).toBe(true);
    expect(mostAtOnce(list, (n) => n.startsWith('sps-'))).toBe(2);
    // The cluster: minions, the other managed host, then the central management node (also search master); never two at once.
    const cluster = list.filter((u) => u.appliance.startsWith('east-'));
    expect(cluster.map((u) => u.appliance)).toEqual(['east-2', 'east-3', 'east-4', 'east-1']);
    expect(mostAtOnce(list, (n) => n.startsWith('east-'))).toBe(1);
    // Verified: the cluster's nodes all on the new version.
    expect((result.output as { clusters: unknown[] }).clusters).toEqual([
      {
        name: 'east',
        order: ['east-2', 'east-3', 'east-4', 'east-1'],
        mixedVersions: false,
        outOfSync: [],
        versions: { '8.0.1': ['east-2', 'east-3', 'east-4', 'east-1'] },
        onOneVersion: true,
      },
    ]);

    // The report, in S3 as JSON and Markdown.
    const stored = (result.output as { stored: { keys: string[] } }).stored;
    expect(stored.keys).toEqual([
      expect.stringMatching(/^reports\/fleet-upgrade\/\d{4}\/\d{2}\/\d{2}\/local-[\w-]+\.json$/),
      expect.stringMatching(/\.md$/),
    ]);
    const md = await (
      await h.s3!.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: stored.keys[1] }))
    ).Body!.transformToString();
    expect(md).toContain('| east-1 | east | central-management, search-master | upgraded | 7.5.1 | 8.0.1 |');
    expect(h.lifecycleEvents.filter((e) => e.DetailType === 'Fleet Upgrade Finished')).toHaveLength(1);
    // The staging run's own report: each appliance's dry run, preflight verdict, slot and precheck summary.
    const staging = (await h.s3!.objects()).find((o) => /^reports\/firmware-upgrade\/.+\.md$/.test(o.key))!;
    const table = await (
      await h.s3!.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: staging.key }))
    ).Body!.transformToString();
    expect(table).toMatch(
      /\| east-1 \| SUCCEEDED \| dry-run-passed \| (pass|warn) \| \d+ \| HA check started<br>HA check finished \|/,
    );
  });

  it('refuses an incomplete cluster before any change anywhere, having read each credentials secret once', async () => {
    h = await startHarness([...standalone(1), ...clusterAppliances('east', 3)], { s3: true });
    const read = h.deps.secrets.get.bind(h.deps.secrets);
    const reads: string[] = [];
    h.deps.secrets.get = (id) => (id.startsWith('sps/') && reads.push(id), read(id));
    const { result, children } = await fleetUpgrade(h, { firmware, appliances: ['sps-1', 'east-1', 'east-2'] });
    expectFailure(result, 'Fleet.IncompleteCluster');
    expect(children).toEqual([]);
    expect(mutating(h)).toEqual([]);
    expect(reads.sort()).toEqual(['sps/east-1', 'sps/east-2', 'sps/sps-1']);
  });

  it('ends in Secrets.Unavailable, not Input.Invalid, when Secrets Manager fails while planning (retried first)', async () => {
    h = await startHarness(standalone(2), { s3: true });
    const refused = refuseSecrets(h.deps.secrets, (id, write) => !write && id === 'sps/sps-2');
    const { result, children } = await fleetUpgrade(h, { firmware, appliances: ['sps-1', 'sps-2'] });
    expectFailure(result, 'Secrets.Unavailable');
    expect(refused()).toBe(4); // the plan and its three retries
    expect(children).toEqual([]);
    expect(mutating(h)).toEqual([]);
  });

  it('stops with Fleet.StageFailed naming each failure when staging fails anywhere: nothing is upgraded', async () => {
    h = await startHarness(
      [{ name: 'sps-1' }, { name: 'sps-2', scenario: 'precheck-fails' }, { name: 'sps-3', scenario: 'fetch-fails' }],
      { s3: true },
    );
    const { result } = await fleetUpgrade(h, { firmware });
    expectFailure(result, 'Fleet.StageFailed');
    expect(result.cause).toMatch(/nothing was rebooted/);
    expect(result.cause).toMatch(/sps-2 \(Sps\.PrecheckFailed\)/);
    expect(result.cause).toMatch(/sps-3 \(Sps\.FetchFailed\)/);
    expect(upgrades(h)).toEqual([]);
  });

  it('stops starting upgrades once more than maxFailures failed: Fleet.ErrorBudgetExceeded, the rest not started', async () => {
    const fleet = standalone(5).map((a) => (a.name === 'sps-2' ? { ...a, scenario: 'upgrade-reverts' as const } : a));
    h = await startHarness(fleet, { s3: true });
    const { result } = await fleetUpgrade(h, { firmware, rollout: { canary: 1, maxConcurrency: 2, maxFailures: 0 } });
    expectFailure(result, 'Fleet.ErrorBudgetExceeded');
    // sps-2 failed in the wave it shared with sps-3 (which finished); no later wave started.
    expect(
      upgrades(h)
        .map((u) => u.appliance)
        .sort(),
    ).toEqual(['sps-1', 'sps-2', 'sps-3']);
    expect(h.sim.appliance('sps-4').state().firmwareVersion).toBe('7.5.1');
  });

  it('stops a cluster at its failed node and announces its mixed versions', async () => {
    h = await startHarness(clusterWith('east', 4, 'east-3', 'upgrade-reverts'), { s3: true });
    const figures: string[] = [];
    h.deps.metrics = {
      add: (name, _unit, value, dimensions) => figures.push(`${name} ${dimensions?.Workflow ?? '-'} ${value}`),
    };
    const { result, children } = await fleetUpgrade(h, { firmware, rollout: { maxFailures: 5 } });
    // Each node staged once; after east-3 failed, no upgrade of east-4 or east-1 was even started.
    const runs = children.filter((c) => c.workflow === 'firmware-upgrade').map((c) => c.appliance);
    expect(runs.filter((a) => a === 'east-2')).toHaveLength(2);
    expect(runs.filter((a) => a === 'east-4')).toHaveLength(1);
    expect(runs.filter((a) => a === 'east-1')).toHaveLength(1);
    // The dashboard's figures: one cluster left on mixed versions, one upgrade failed, one done (the staging run's own beside).
    expect(figures.filter((f) => /^(ClustersOnMixedVersions|FleetAppliances)/.test(f)).sort()).toEqual([
      'ClustersOnMixedVersions - 1',
      'FleetAppliancesFailed firmware-upgrade 0',
      'FleetAppliancesFailed fleet-upgrade 1',
      'FleetAppliancesSucceeded firmware-upgrade 4',
      'FleetAppliancesUpgraded - 1',
    ]);
    expectFailure(result, 'Fleet.ChildrenFailed');
    expect(upgrades(h).map((u) => u.appliance)).toEqual(['east-2', 'east-3']);
    expect(h.lifecycleEvents.find((e) => e.DetailType === 'Cluster Mixed Versions')?.Detail).toMatchObject({
      cluster: 'east',
      upgraded: ['east-2'],
      failed: 'east-3',
      pending: ['east-4', 'east-1'],
    });
  });

  it('skips appliances already on the version, and a dry run stages everything and reboots nothing', async () => {
    h = await startHarness([{ name: 'sps-1', scenario: 'already-current' }, { name: 'sps-2' }, { name: 'sps-3' }], {
      s3: true,
    });
    const { result } = await fleetUpgrade(h, { firmware, options: { dryRun: true } });
    expect(result.status).toBe('SUCCEEDED');
    expect(rowsOf(result)).toEqual(['sps-1 already-current', 'sps-2 dry-run-passed', 'sps-3 dry-run-passed']);
    expect(upgrades(h)).toEqual([]);
  });

  it('starts from a SPS Firmware Release event: the named appliances', async () => {
    h = await startHarness(standalone(3), { s3: true });
    const { result } = await fleetUpgrade(h, {
      source: RELEASE_EVENT.source,
      'detail-type': RELEASE_EVENT.detailType,
      detail: { firmware, appliances: ['sps-3'], options: null },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(rowsOf(result)).toEqual(['sps-3 upgraded']);
  });
});

describe('fleet upgrade maintenance window', () => {
  it('starts no reboot outside the window: waits for it to open, and for the next one when it closes mid-rollout', async () => {
    h = await startHarness(standalone(3), { s3: true });
    // An 8-minute window, 02:00–02:08 UTC on the day after today (simulated clock), weekly; an upgrade here takes 5.
    const tomorrow = new Date(h.sim.clock.now() + 86_400_000);
    const day = (['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const)[tomorrow.getUTCDay()];
    const window = { days: [day], start: '02:00', end: '02:08', timeZone: 'UTC' };
    const inWindow = (at: string) => {
      const t = new Date(at);
      return t.getUTCDay() === tomorrow.getUTCDay() && t.getUTCHours() === 2 && t.getUTCMinutes() < 8;
    };
    const { result } = await fleetUpgrade(h, { firmware, rollout: { canary: 0, maxConcurrency: 1, window } });
    expect(result.status).toBe('SUCCEEDED');
    const posts = h.sim.journal.entries().filter((e) => e.method === 'POST' && e.path === '/api/firmware/upgrade');
    expect(posts).toHaveLength(3);
    for (const post of posts)
      expect({ at: post.at, inWindow: inWindow(post.at) }).toEqual({ at: post.at, inWindow: true });
    // Staging ran at once, outside the window; the three reboots did not fit one window: two, a week apart.
    const staging = h.sim.journal
      .entries()
      .filter((e) => e.path === '/api/firmware/test')
      .slice(0, 3);
    expect(staging.every((t) => !inWindow(t.at))).toBe(true);
    const days = new Set(posts.map((p) => p.at.slice(0, 10)));
    expect(days.size).toBe(2);
    const waits = result.events.filter((e) => e.type === 'StateEntered' && e.state?.name === 'Wait for the window');
    expect(waits.length).toBeGreaterThanOrEqual(2);
  });
});

describe('fleet upgrade approval', () => {
  it('asks after the canary, with the plan and the staging, then goes on once approved', async () => {
    h = await startHarness(standalone(3), { s3: true });
    const { result, requests } = await fleetUpgrade(
      h,
      { firmware, rollout: { approval: 'after-canary', maxConcurrency: 2 } },
      () => ({ approved: true }),
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.detail).toMatchObject({
      firmware,
      upgraded: [{ appliance: 'sps-1', outcome: 'upgraded' }],
      waves: [
        { kind: 'canary', appliances: ['sps-1'] },
        { kind: 'standalone', appliances: ['sps-2', 'sps-3'] },
      ],
      stage: {
        summary: { total: 3, succeeded: 3, failed: 0 },
        execution: expect.stringMatching(/:execution:sps-workflows-fleet-run:/),
        report: {
          bucket: BUCKET,
          keys: [expect.stringMatching(/^reports\/firmware-upgrade\/.+\.json$/), expect.stringMatching(/\.md$/)],
        },
      },
      upgradeNotes: {
        bucket: BUCKET,
        key: expect.stringMatching(/^reports\/fleet-upgrade\/.+-upgrade-notes\.md$/),
        from: 'sps-1',
      },
    });
    const notes = await (
      await h.s3!.client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: (requests[0]!.detail.upgradeNotes as { key: string }).key }),
      )
    ).Body!.transformToString();
    expect(notes).toContain('Release notes of 8.0.1');
    // The token is in the request, and nowhere in the history or the logs.
    expect(requests[0]!.taskToken).toMatch(/^local-token-/);
    expect(JSON.stringify(h.logs)).not.toContain(requests[0]!.taskToken);
    expect(upgrades(h)).toHaveLength(3);
  });

  it('ends in Fleet.Rejected, with the reason, and reboots nothing when rejected before the upgrade', async () => {
    h = await startHarness(standalone(2), { s3: true });
    const { result } = await fleetUpgrade(h, { firmware, rollout: { approval: 'before-upgrade' } }, () => ({
      approved: false,
      reason: 'change freeze',
    }));
    expectFailure(result, 'Fleet.Rejected');
    expect(result.cause).toMatch(/change freeze/);
    expect(upgrades(h)).toEqual([]);
  });

  it('ends in Fleet.ApprovalTimeout when no one answers in time', async () => {
    h = await startHarness(standalone(2), { s3: true });
    const { result } = await fleetUpgrade(h, {
      firmware,
      rollout: { approval: 'before-upgrade', approvalTimeoutMinutes: 30 },
    });
    expectFailure(result, 'Fleet.ApprovalTimeout');
    expect(upgrades(h)).toEqual([]);
  });
});
