import {
  advanceRollout,
  fleetUpgradeMarkdown,
  fleetUpgradeState,
  planRollout,
  reportFleetUpgrade,
  ROLLOUT_START,
  type ClusterMember,
  type InventoryEntry,
  type PlannedWave,
} from '../../lambdas/shared/fleet-upgrade';
import { fleetUpgradeInputSchema } from '../../lambdas/shared/fleet-upgrade-input';
import { parseInput } from '../../lambdas/shared/input';

/* A fleet upgrade's plan: clusters matched by address, refused when incomplete, the waves. */

const member = (address: string, roles: string[], syncStatus = 'n/a'): ClusterMember => ({
  key: address,
  address,
  roles,
  healthReported: true,
  syncStatus,
});
const entry = (name: string, host: string, over: Partial<InventoryEntry> = {}): InventoryEntry => ({
  name,
  endpoint: `https://${host}:8443`,
  cluster: null,
  version: '7.5.1',
  roles: [],
  members: null,
  ...over,
});

/** A 3-node cluster: cm (central management + search master), a minion, a managed host. */
const cluster = (over: { cmVersion?: string; minionSync?: string } = {}) => [
  entry('cm', '127.0.0.2', {
    cluster: 'east',
    roles: ['central-management', 'search-master'],
    version: over.cmVersion ?? '7.5.1',
    members: [
      member('127.0.0.2', ['central-management', 'search-master']),
      member('127.0.0.3', ['search-minion', 'managed-host'], over.minionSync),
      member('127.0.0.4', ['managed-host', 'search-local']),
    ],
  }),
  entry('minion', '127.0.0.3', { cluster: 'east', roles: ['search-minion', 'managed-host'] }),
  entry('host', '127.0.0.4', { cluster: 'east', roles: ['managed-host', 'search-local'] }),
];

describe('planRollout', () => {
  it("plans canaries, standalone batches, then the cluster node by node in the vendor's order", () => {
    const plan = planRollout(
      [entry('sps-1', '127.0.0.1'), entry('sps-2', 'sps2.example.internal'), ...cluster()],
      '8.0.1',
      { canary: 1, maxConcurrency: 4 },
    );
    expect(plan.waves).toEqual([
      { kind: 'canary', appliances: ['sps-1'] },
      { kind: 'standalone', appliances: ['sps-2'] },
      { kind: 'cluster', cluster: 'east', appliances: ['minion', 'host', 'cm'] },
    ]);
    expect(plan.clusters).toEqual([
      {
        name: 'east',
        nodes: ['minion', 'host', 'cm'].map((name) => expect.objectContaining({ name })),
        mixedVersions: false,
        outOfSync: [],
      },
    ]);
  });

  it('refuses a cluster with a member missing from the input, naming it, before anything changes', () => {
    const [cm, minion] = cluster();
    expect(() => planRollout([cm!, minion!], '8.0.1', { canary: 0, maxConcurrency: 1 })).toThrow(
      expect.objectContaining({
        name: 'Fleet.IncompleteCluster',
        message: expect.stringContaining(
          'east: member 127.0.0.4 (managed-host, search-local) is not among the appliances',
        ),
      }),
    );
  });

  it('refuses a member whose central management node is missing', () => {
    const [, minion, host] = cluster();
    expect(() => planRollout([minion!, host!], '8.0.1', { canary: 0, maxConcurrency: 1 })).toThrow(
      /east: minion is a cluster member .* whose central management node is not among the appliances/,
    );
  });

  it('skips what already runs the version, reports mixed versions and members out of sync', () => {
    // "pending" is every healthy member's state in the vendor's sample: only another value is out of sync.
    const plan = planRollout(cluster({ cmVersion: '8.0.1', minionSync: 'failed' }), '8.0.1', {
      canary: 1,
      maxConcurrency: 1,
    });
    expect(plan.skipped).toEqual([{ name: 'cm', reason: 'already runs 8.0.1' }]);
    expect(plan.waves.flatMap((w) => w.appliances)).toEqual(['minion', 'host']);
    expect(plan.clusters[0]).toMatchObject({ mixedVersions: true, outOfSync: ['minion'] });
  });
});

const STATE_LIMIT = 256 * 1024;
const firmware = {
  url: 'https://downloads.example.internal/sps-8.0.1.iso',
  sha256: 'a'.repeat(64),
  expectedVersion: '8.0.1',
};
const input = (rollout: object = {}) => parseInput(fleetUpgradeInputSchema, { firmware, rollout });

describe('fleetUpgradeState', () => {
  it('holds a thousand appliances, their rows and their staging within a state, with room to spare', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `sps-prod-${String(i).padStart(4, '0')}`);
    const entries = names.map((n, i) => entry(n, `10.0.${Math.floor(i / 250)}.${i % 250}`));
    const state = fleetUpgradeState(input(), entries, new Map());
    expect(state.plan.waves).toHaveLength(1 + Math.ceil(999 / 4));
    // What the state holds at the end of the rollout: a row per appliance, the staging's rows.
    const end = {
      ...state,
      progress: {
        ...state.progress,
        results: names.map((appliance) => ({ appliance, outcome: 'upgraded' })),
      },
      stage: { summary: { total: 1000, succeeded: 1000, failed: 0 }, execution: 'x'.repeat(120) },
    };
    expect(JSON.stringify(end).length).toBeLessThan(STATE_LIMIT * 0.8);
  });

  it('gives every child the fleet options with cluster members allowed, and stages as dry runs', () => {
    const state = fleetUpgradeState(
      input(),
      cluster(),
      new Map([['minion', { name: 'minion', credentialsSecretId: 'other/minion' }]]),
    );
    expect(state.plan.child.options).toMatchObject({ dryRun: false, allowClusterMember: true, preflight: 'enforce' });
    expect(state.plan.stageRun).toMatchObject({
      workflow: 'firmware-upgrade',
      maxConcurrency: 4,
      input: { options: { dryRun: true } },
    });
    // A child names its appliance as the input did.
    expect(state.plan.waves[0]!.appliances).toEqual([
      { name: 'minion', credentialsSecretId: 'other/minion' },
      'host',
      'cm',
    ]);
  });
});

describe('advanceRollout', () => {
  const waves: PlannedWave[] = [
    { kind: 'canary', appliances: ['a'] },
    { kind: 'standalone', appliances: ['b', 'c'] },
    { kind: 'cluster', cluster: 'east', appliances: ['m1', 'm2', 'cm'] },
  ];
  const plan = (over: Partial<Parameters<typeof advanceRollout>[0]> = {}) => ({
    waves,
    maxFailures: 0,
    approval: 'none',
    window: null,
    ...over,
  });
  const ok = (appliance: string) => ({ appliance, status: 'SUCCEEDED', outcome: 'upgraded', version: '8.0.1' });
  /** How the rollout keeps a row that succeeded. */
  const kept = (appliance: string) => ({ appliance, outcome: 'upgraded' });
  const now = new Date('2026-12-05T21:30:00Z');

  it('starts each wave in turn, a cluster one node at a time with a failure stopping it, and ends', () => {
    let step = advanceRollout(plan(), ROLLOUT_START, null, null, now);
    expect(step).toMatchObject({ action: 'upgrade', wave: { index: 0, maxConcurrency: 1, stopCluster: false } });
    step = advanceRollout(plan(), step, [ok('a')], null, now);
    expect(step).toMatchObject({ action: 'upgrade', wave: { index: 1, maxConcurrency: 2, stopCluster: false } });
    step = advanceRollout(plan(), step, [ok('b'), ok('c')], null, now);
    expect(step).toMatchObject({ action: 'upgrade', wave: { index: 2, maxConcurrency: 1, stopCluster: true } });
    step = advanceRollout(plan(), step, [ok('m1'), ok('m2'), ok('cm')], null, now);
    expect(step).toMatchObject({ action: 'done', failures: 0, stop: null });
    expect(step.results.map((r) => r.appliance)).toEqual(['a', 'b', 'c', 'm1', 'm2', 'cm']);
  });

  it('stops starting waves once more than maxFailures failed', () => {
    const first = advanceRollout(plan(), ROLLOUT_START, null, null, now);
    const failed = advanceRollout(
      plan(),
      first,
      [{ appliance: 'a', status: 'FAILED', error: 'Sps.Timeout' }],
      null,
      now,
    );
    expect(failed).toMatchObject({ action: 'done', failures: 1, stop: { error: 'Fleet.ErrorBudgetExceeded' } });
    const tolerated = advanceRollout(
      plan({ maxFailures: 1 }),
      first,
      [{ appliance: 'a', status: 'FAILED' }],
      null,
      now,
    );
    expect(tolerated).toMatchObject({ action: 'upgrade', failures: 1, stop: null });
  });

  it("reads a stopped cluster from its failed node's row: the nodes before it upgraded, the rest pending", () => {
    const atCluster = { ...ROLLOUT_START, next: 3, current: 2, results: [kept('a'), kept('b'), kept('c')] };
    const row = { appliance: { name: 'm2', credentialsSecretId: 'x' }, status: 'FAILED', error: 'Sps.UpgradeReverted' };
    const step = advanceRollout(
      plan({ maxFailures: 5 }),
      atCluster,
      { Error: 'Fleet.ClusterStopped', Cause: JSON.stringify(row) },
      null,
      now,
    );
    expect(step.mixed).toEqual({ cluster: 'east', upgraded: ['m1'], failed: 'm2', pending: ['cm'] });
    expect(step.results.slice(3)).toEqual([
      kept('m1'),
      { appliance: 'm2', status: 'FAILED', error: 'Sps.UpgradeReverted' },
    ]);
    expect(step.action).toBe('done');
    expect(() => advanceRollout(plan(), atCluster, { Error: 'States.Runtime' }, null, now)).toThrow(
      /Internal|without a node/,
    );
  });

  it('asks for approval before the first wave, or once the canaries are done, and once only', () => {
    expect(advanceRollout(plan({ approval: 'before-upgrade' }), ROLLOUT_START, null, null, now).action).toBe('approve');
    const first = advanceRollout(plan({ approval: 'after-canary' }), ROLLOUT_START, null, null, now);
    expect(first).toMatchObject({ action: 'upgrade', wave: { kind: 'canary' } });
    const ask = advanceRollout(plan({ approval: 'after-canary' }), first, [ok('a')], null, now);
    expect(ask.action).toBe('approve');
    const approved = advanceRollout(plan({ approval: 'after-canary' }), ask, [ok('a')], { approvedBy: 'jane' }, now);
    expect(approved).toMatchObject({ action: 'upgrade', approved: true, wave: { index: 1 } });
    // More canaries than run at once: every canary wave first, then the question.
    const twoCanaryWaves = plan({
      approval: 'after-canary',
      waves: [waves[0]!, { kind: 'canary', appliances: ['a2'] }, ...waves.slice(1)],
    });
    const second = advanceRollout(twoCanaryWaves, first, [ok('a')], null, now);
    expect(second).toMatchObject({ action: 'upgrade', wave: { index: 1, kind: 'canary' } });
    expect(advanceRollout(twoCanaryWaves, second, [ok('a2')], null, now).action).toBe('approve');
    // The finished canary wave was taken in once, not again after the approval.
    expect(approved.results).toEqual([kept('a')]);
  });

  it('waits for the maintenance window to open, and waits again when it closes mid-rollout', () => {
    const window = { days: ['Sat' as const], start: '22:00', end: '23:00', timeZone: 'Europe/Budapest' };
    const friday = new Date('2026-12-04T12:00:00Z');
    const closed = advanceRollout(plan({ window }), ROLLOUT_START, null, null, friday);
    expect(closed).toMatchObject({ action: 'wait', waitingUntil: '2026-12-05T21:00:00.000Z', wave: null });
    expect(closed.waitSeconds).toBe(33 * 3600);
    const open = advanceRollout(plan({ window }), closed, null, null, new Date('2026-12-05T21:00:00Z'));
    expect(open).toMatchObject({ action: 'upgrade', wave: { index: 0 } });
    const late = advanceRollout(plan({ window }), open, [ok('a')], null, new Date('2026-12-05T22:10:00Z'));
    expect(late).toMatchObject({ action: 'wait', waitingUntil: '2026-12-12T21:00:00.000Z' });
    expect(late.results).toEqual([kept('a')]);
  });
});

describe('reportFleetUpgrade', () => {
  const appliances = ['a', 'b', 'c', 'd'].map((name) => ({ name, cluster: null, roles: [], previousVersion: '7.5.1' }));

  it('has a row per appliance and ends in Fleet.ChildrenFailed when upgrades failed within the budget', () => {
    const current = { ...appliances[3]!, previousVersion: '8.0.1' };
    const end = reportFleetUpgrade(
      firmware,
      [...appliances.slice(0, 3), current],
      [{ name: 'east', order: ['b', 'a'], mixedVersions: false, outOfSync: ['a'] }],
      [
        { appliance: 'a', status: 'SUCCEEDED', outcome: 'upgraded', version: '8.0.1' },
        {
          appliance: 'b',
          status: 'FAILED',
          error: 'Sps.Timeout',
          execution: 'arn:aws:states:eu-central-1:1:execution:m:child-7',
        },
      ],
      null,
    );
    expect(end.report.summary).toEqual({ upgraded: 1, alreadyCurrent: 1, dryRunPassed: 0, failed: 1, notStarted: 1 });
    expect(end.report.appliances.map((a) => [a.name, a.outcome, a.version, a.error])).toEqual([
      ['a', 'upgraded', '8.0.1', null],
      ['b', 'failed', null, 'Sps.Timeout'],
      ['c', 'not-started', '7.5.1', null],
      ['d', 'already-current', '8.0.1', null],
    ]);
    expect(end).toMatchObject({ error: 'Fleet.ChildrenFailed', cause: '1 of 4 upgrades failed: b (Sps.Timeout)' });
    const md = fleetUpgradeMarkdown(
      end.report,
      new Date('2026-12-05T22:00:00Z'),
      'arn:aws:states:::execution:m:run-1',
      end,
    );
    expect(md).toContain('| b |  |  | failed | 7.5.1 |  | Sps.Timeout | `child-7` |');
    expect(md).toContain('Ended with **Fleet.ChildrenFailed**');
    // The cluster is verified from its nodes' rows: the failed node's version is unknown.
    expect(end.report.clusters).toEqual([
      {
        name: 'east',
        order: ['b', 'a'],
        mixedVersions: false,
        outOfSync: ['a'],
        versions: { unknown: ['b'], '8.0.1': ['a'] },
        onOneVersion: false,
      },
    ]);
    expect(md).toContain(
      '- Cluster **east** (b → a): **not on one version**: unknown (b), 8.0.1 (a); configuration not in sync: a.',
    );
  });

  it('ends with the error that stopped the rollout', () => {
    const stop = { error: 'Fleet.Rejected', cause: 'The rollout was rejected: change freeze' };
    expect(reportFleetUpgrade(firmware, appliances, [], [], stop)).toMatchObject({
      ...stop,
      report: { summary: { notStarted: 4 } },
    });
  });
});

describe('fleet upgrade input', () => {
  const problems = (raw: unknown): string[] => {
    try {
      parseInput(fleetUpgradeInputSchema, raw);
      return [];
    } catch (err) {
      return (err as { problems: string[] }).problems;
    }
  };

  it('lists every bad field at once: the version, names and endpoints given twice, the window', () => {
    expect(
      problems({
        firmware: { url: firmware.url, sha256: firmware.sha256 },
        appliances: [
          'a',
          { name: 'b', endpoint: 'https://x.example.internal' },
          'a',
          { name: 'c', endpoint: 'https://x.example.internal' },
        ],
        rollout: {
          approval: 'maybe',
          window: { days: ['Fri', 'Funday'], start: '25:00', end: '4:00', timeZone: 'Mars/Olympus' },
        },
      }),
    ).toEqual([
      'firmware.expectedVersion: required',
      'appliances.2: same name as appliances.0',
      'appliances.3: same endpoint as appliances.1',
      'rollout.approval: must be one of none, after-canary, before-upgrade',
      'rollout.window.days.1: must be one of Sun, Mon, Tue, Wed, Thu, Fri, Sat',
      'rollout.window.start: must be a time of day as "HH:MM" (24-hour)',
      'rollout.window.end: must be a time of day as "HH:MM" (24-hour)',
      'rollout.window.timeZone: must be an IANA time zone such as "Europe/Budapest"',
    ]);
  });

  it('takes the defaults: canary 1, 4 at a time, no failure tolerated, no approval, staged first, any time', () => {
    expect(parseInput(fleetUpgradeInputSchema, { firmware }).rollout).toEqual({
      canary: 1,
      maxConcurrency: 4,
      maxFailures: 0,
      approval: 'none',
      approvalTimeoutMinutes: 1440,
      stageFirst: true,
      window: null,
    });
  });
});
