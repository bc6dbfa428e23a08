import * as z from 'zod/mini';
import { NamedError } from './errors';
import { namedFailures } from './fleet';
import type { FleetUpgradeInput } from './fleet-upgrade-input';
import { nextChange, planWaves, windowOpen, type MaintenanceWindow, type Wave } from './rollout';
import { sameVersion } from './versions';

/*
 * A fleet upgrade's plan (README, "Fleet upgrade"), pure: from what each appliance answered
 * (version, roles, and on a Central Management node its members), the clusters, what is skipped,
 * and the waves. A cluster is upgraded whole or not at all: a member missing from the input stops
 * the run before anything changes.
 */

/** A member as the Central Management node lists it. */
export interface ClusterMember {
  key: string;
  address: string;
  roles: string[];
  /** False while the member is down (and for the Central Management node's own entry). */
  healthReported: boolean;
  syncStatus: string | null;
}

/** One appliance of the input, as its inventory found it. */
export interface InventoryEntry {
  name: string;
  endpoint: string;
  /** The credentials secret's `cluster`, when it names one. */
  cluster: string | null;
  version: string | null;
  roles: string[];
  /** Set on a Central Management node: the cluster's members. */
  members: ClusterMember[] | null;
}

export interface PlannedCluster {
  name: string;
  /** In the vendor's order. */
  nodes: Array<{ name: string; roles: string[]; version: string | null }>;
  mixedVersions: boolean;
  /** Members whose configuration is not in sync (a `sync_status` other than "n/a", "pending", "synced"). */
  outOfSync: string[];
}

export interface RolloutPlan {
  waves: Wave[];
  clusters: PlannedCluster[];
  skipped: Array<{ name: string; reason: string }>;
}

const hostOf = (endpoint: string) => new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
// The vendor's samples show only "n/a" (the Central Management node) and "pending" (every other
// member, healthy): "pending" is not read as out of sync, or every real cluster would be flagged.
const IN_SYNC = new Set(['n/a', 'pending', 'synced', 'in-sync', 'ok']);

/**
 * Matches every Central Management node's members to the input's appliances (by address: the
 * host of the appliance's endpoint), refuses an incomplete cluster, skips what already runs
 * `expectedVersion`, and plans the waves.
 */
export function planRollout(
  entries: readonly InventoryEntry[],
  expectedVersion: string,
  rollout: { canary: number; maxConcurrency: number },
): RolloutPlan {
  const byHost = new Map(entries.map((e) => [hostOf(e.endpoint), e]));
  const clusterOf = new Map<string, { cluster: string; roles: string[] }>();
  const clusters: PlannedCluster[] = [];
  const problems: string[] = [];

  for (const cm of entries.filter((e) => e.members)) {
    const name = cm.cluster ?? `the cluster of ${cm.name}`;
    const nodes: PlannedCluster['nodes'] = [];
    const outOfSync: string[] = [];
    for (const member of cm.members!) {
      const entry = byHost.get(member.address);
      if (!entry) {
        problems.push(
          `${name}: member ${member.address} (${member.roles.join(', ') || 'no role'}) is not among the appliances`,
        );
        continue;
      }
      clusterOf.set(entry.name, { cluster: name, roles: member.roles });
      nodes.push({ name: entry.name, roles: member.roles, version: entry.version });
      if (member.syncStatus && !IN_SYNC.has(member.syncStatus)) outOfSync.push(entry.name);
    }
    const versions = new Set(nodes.map((n) => n.version ?? 'unknown'));
    clusters.push({ name, nodes, mixedVersions: versions.size > 1, outOfSync });
  }
  // A member whose Central Management node is not in the input: its cluster cannot be checked whole.
  for (const e of entries) {
    if (clusterOf.has(e.name) || e.members) continue;
    if (e.roles.length > 0 || e.cluster) {
      problems.push(
        `${e.cluster ?? `the cluster of ${e.name}`}: ${e.name} is a cluster member (${e.roles.join(', ') || `cluster ${e.cluster}`}) whose central management node is not among the appliances`,
      );
    }
  }
  if (problems.length > 0) {
    throw new NamedError(
      'Fleet.IncompleteCluster',
      `A cluster is upgraded whole, in the vendor's order, or not at all; nothing was changed: ${problems.join('; ')}`,
    );
  }

  const skipped: RolloutPlan['skipped'] = [];
  const targets = entries.flatMap((e) => {
    if (sameVersion(e.version, expectedVersion)) {
      skipped.push({ name: e.name, reason: `already runs ${expectedVersion}` });
      return [];
    }
    const membership = clusterOf.get(e.name);
    return [{ name: e.name, cluster: membership?.cluster, roles: membership?.roles ?? e.roles }];
  });
  const waves = planWaves(targets, rollout.canary, rollout.maxConcurrency);
  // Each cluster's nodes in the waves' order (the vendor's).
  const order = new Map(waves.flatMap((w) => w.appliances).map((a, i) => [a, i] as const));
  for (const c of clusters) c.nodes.sort((a, b) => (order.get(a.name) ?? -1) - (order.get(b.name) ?? -1));
  return { waves, clusters, skipped };
}

/** What the appliances of a fleet upgrade get, wave after wave, and where the rollout stands. */
export interface UpgradeRow {
  appliance: string;
  /** The child execution's end: SUCCEEDED (left out once kept), FAILED, TIMED_OUT, ABORTED, or NOT_STARTED (its start failed). */
  status?: string;
  outcome?: string;
  version?: string | null;
  error?: string;
  execution?: string;
}

export interface RolloutState {
  /** The index of the next wave to start. */
  next: number;
  /** The wave whose upgrades are running (its rows come back as `finished`), null between waves. */
  current: number | null;
  results: UpgradeRow[];
  failures: number;
  approved: boolean;
  /** Why no further wave starts (`Fleet.ErrorBudgetExceeded`), null while the rollout goes on. */
  stop: { error: string; cause: string } | null;
}

export interface RolloutStep extends RolloutState {
  /** What the workflow does next. */
  action: 'upgrade' | 'wait' | 'approve' | 'done';
  /** With `upgrade`: the wave, how many of its upgrades run at once, and whether a failure stops the rest (a cluster). */
  wave: (PlannedWave & { index: number; maxConcurrency: number; stopCluster: boolean }) | null;
  /** With `wait`: until the maintenance window opens (and when that is). */
  waitSeconds: number;
  waitingUntil: string | null;
  /** A cluster node failed: the cluster stopped, on mixed versions. */
  mixed: { cluster: string; upgraded: string[]; failed: string; pending: string[] } | null;
}

/** An appliance as a child upgrade gets it: its registered name, or the name and its own credentials secret. */
export type ApplianceValue = string | { name: string; credentialsSecretId?: string };
export const nameOf = (value: ApplianceValue): string => (typeof value === 'string' ? value : value.name);
export const applianceValueSchema = z.union([z.string(), z.looseObject({ name: z.string() })]);

/** A wave as the workflow carries it: each appliance as its child gets it. */
export interface PlannedWave {
  kind: Wave['kind'];
  cluster?: string;
  appliances: ApplianceValue[];
}

export const ROLLOUT_START: RolloutState = {
  next: 0,
  current: null,
  results: [],
  failures: 0,
  approved: false,
  stop: null,
};

/** The error a cluster's Map fails with when a node failed: its cause is the node's row. */
export const CLUSTER_STOPPED = 'Fleet.ClusterStopped';

/**
 * One step of the rollout: takes in the wave that just finished (its rows, or the row of the
 * cluster node that stopped its cluster), then says what comes next: a wave, the approval, a wait
 * for the maintenance window, or the end. No wave starts once more than `maxFailures` upgrades
 * failed; a failed cluster node leaves its later nodes not started.
 */
export function advanceRollout(
  plan: { waves: readonly PlannedWave[]; maxFailures: number; approval: string; window: MaintenanceWindow | null },
  state: RolloutState,
  finished: UpgradeRow[] | { Error: string; Cause?: string } | null,
  approval: unknown,
  now: Date,
): RolloutStep {
  const next = {
    ...state,
    results: [...state.results],
    approved: state.approved || (approval !== null && approval !== undefined),
  };
  let mixed: RolloutStep['mixed'] = null;
  if (state.current !== null) {
    const wave = plan.waves[state.current]!;
    const names = wave.appliances.map(nameOf);
    let rows: UpgradeRow[];
    if (Array.isArray(finished)) {
      rows = finished;
    } else {
      if (!finished) throw new NamedError('Internal.Error', `wave ${state.current} finished without its rows`);
      // The cluster's Map stopped at a node: the nodes before it (one at a time, in order) were upgraded.
      const row = parseStoppedNode(finished);
      const at = names.indexOf(row.appliance);
      rows = [...names.slice(0, at).map((appliance) => ({ appliance, status: 'SUCCEEDED', outcome: 'upgraded' })), row];
      mixed = {
        cluster: wave.cluster ?? '',
        upgraded: names.slice(0, at),
        failed: row.appliance,
        pending: names.slice(at + 1),
      };
    }
    next.results.push(...rows.map(compact));
    next.failures += rows.filter((r) => r.status !== undefined && r.status !== 'SUCCEEDED').length;
    next.current = null;
    if (next.failures > plan.maxFailures && !next.stop) {
      next.stop = {
        error: 'Fleet.ErrorBudgetExceeded',
        cause: `${next.failures} upgrade(s) failed, more than rollout.maxFailures (${plan.maxFailures}): no further upgrade was started. Each failed upgrade's execution has its error; fix those appliances, then start again (what is already upgraded is skipped), or raise rollout.maxFailures`,
      };
    }
  }
  const step = (action: RolloutStep['action'], extra: Partial<RolloutStep> = {}): RolloutStep => ({
    ...next,
    action,
    wave: null,
    waitSeconds: 0,
    waitingUntil: null,
    mixed,
    ...extra,
  });
  if (next.stop || next.next >= plan.waves.length) return step('done');
  // After the canaries: before the first wave that is not one (before the first wave when there are none).
  const canariesDone = plan.waves[next.next]!.kind !== 'canary';
  if (!next.approved && (plan.approval === 'before-upgrade' || (plan.approval === 'after-canary' && canariesDone))) {
    return step('approve');
  }
  if (plan.window && !windowOpen(plan.window, now)) {
    const opens = nextChange(plan.window, now, 'open');
    // Every window with a day opens within a week (the input requires a day).
    if (!opens) throw new NamedError('Internal.Error', 'the maintenance window never opens');
    return step('wait', {
      waitSeconds: Math.max(60, Math.ceil((opens.getTime() - now.getTime()) / 1000)),
      waitingUntil: opens.toISOString(),
    });
  }
  const index = next.next;
  const wave = plan.waves[index]!;
  const cluster = wave.kind === 'cluster';
  return {
    ...step('upgrade'),
    next: index + 1,
    current: index,
    wave: { ...wave, index, maxConcurrency: cluster ? 1 : wave.appliances.length, stopCluster: cluster },
  };
}

/**
 * A row as the rollout keeps it: a thousand must fit the state, so an upgrade that succeeded keeps
 * its outcome only (its version is `expectedVersion`; `status` is left out for SUCCEEDED).
 */
function compact(row: UpgradeRow): UpgradeRow {
  if (row.status !== 'SUCCEEDED') return row;
  const { appliance, outcome, version } = row;
  return { appliance, outcome: outcome ?? 'upgraded', ...(outcome === 'upgraded' ? {} : { version }) };
}

/** The row a cluster node's iteration put in its `Fleet.ClusterStopped` cause. */
function parseStoppedNode(failure: { Error: string; Cause?: string }): UpgradeRow {
  if (failure.Error === CLUSTER_STOPPED) {
    try {
      const row = JSON.parse(failure.Cause ?? '') as Omit<UpgradeRow, 'appliance'> & { appliance: ApplianceValue };
      return { ...row, appliance: nameOf(row.appliance) };
    } catch {
      // fall through: an unreadable cause is a defect
    }
  }
  throw new NamedError('Internal.Error', `a cluster wave failed without a node's row: ${failure.Error}`);
}

/** One appliance as the fleet upgrade's inventory found it (the report's first columns). */
export interface FleetAppliance {
  name: string;
  cluster: string | null;
  roles: string[];
  previousVersion: string | null;
}

export type FleetOutcome = 'upgraded' | 'already-current' | 'dry-run-passed' | 'failed' | 'not-started';

/** A cluster as the plan found it (its order, its state before the rollout). */
export interface FleetCluster {
  name: string;
  order: string[];
  mixedVersions: boolean;
  outOfSync: string[];
}

export interface FleetUpgradeReport {
  firmware: { url: string; sha256: string; expectedVersion: string };
  /** Each cluster after the rollout: its nodes' versions, and whether they are one (the vendor requires it). */
  clusters: Array<FleetCluster & { versions: Record<string, string[]>; onOneVersion: boolean }>;
  summary: { upgraded: number; alreadyCurrent: number; dryRunPassed: number; failed: number; notStarted: number };
  appliances: Array<
    FleetAppliance & { outcome: FleetOutcome; version: string | null; error: string | null; execution: string | null }
  >;
}

/** The words of a failure's cause: a child's failure is its DescribeExecution answer, as JSON text. */
export function childCause(cause: string | undefined): string {
  try {
    // A caught error ({Error, Cause}) whose cause is a child's DescribeExecution answer: unwrap each.
    const failure = JSON.parse(cause ?? '') as { Cause?: unknown; Error?: unknown };
    if (typeof failure.Cause === 'string') return childCause(failure.Cause);
    if (typeof failure.Error === 'string') return failure.Error;
  } catch {
    // plain text: the cause as it is
  }
  return cause ?? '';
}

/**
 * The fleet upgrade's report, appliance by appliance in the order of the inventory, and the error
 * the run ends with: why it stopped, or `Fleet.ChildrenFailed` when upgrades failed within the budget.
 */
export function reportFleetUpgrade(
  firmware: FleetUpgradeReport['firmware'],
  appliances: readonly FleetAppliance[],
  clusters: readonly FleetCluster[],
  results: readonly UpgradeRow[],
  stop: { error: string; cause: string } | null,
): { report: FleetUpgradeReport; error: string | null; cause: string | null } {
  const byName = new Map(results.map((r) => [r.appliance, r]));
  const rows = appliances.map((a): FleetUpgradeReport['appliances'][number] => {
    const row = byName.get(a.name);
    const base = { ...a, error: null, execution: null };
    if (sameVersion(a.previousVersion, firmware.expectedVersion)) {
      return { ...base, outcome: 'already-current', version: a.previousVersion };
    }
    if (!row) return { ...base, outcome: 'not-started', version: a.previousVersion };
    if (row.status === undefined || row.status === 'SUCCEEDED') {
      const outcome = (row.outcome as FleetOutcome | undefined) ?? 'upgraded';
      const version = row.version ?? (outcome === 'upgraded' ? firmware.expectedVersion : a.previousVersion);
      return { ...base, outcome, version };
    }
    return {
      ...base,
      outcome: 'failed',
      version: null,
      error: row.error ?? row.status,
      execution: row.execution ?? null,
    };
  });
  const count = (outcome: FleetOutcome) => rows.filter((r) => r.outcome === outcome).length;
  const summary = {
    upgraded: count('upgraded'),
    alreadyCurrent: count('already-current'),
    dryRunPassed: count('dry-run-passed'),
    failed: count('failed'),
    notStarted: count('not-started'),
  };
  const failed = rows.filter((r) => r.outcome === 'failed');
  const named = namedFailures(failed.map((r) => ({ name: r.name, why: r.error ?? 'failed' })));
  const error = stop?.error ?? (failed.length > 0 ? 'Fleet.ChildrenFailed' : null);
  const cause =
    stop?.cause ?? (failed.length > 0 ? `${failed.length} of ${rows.length} upgrades failed: ${named}` : null);
  // A node whose upgrade failed is on an unknown version until someone looks.
  const versionOf = new Map(rows.map((r) => [r.name, r.outcome === 'failed' ? 'unknown' : (r.version ?? 'unknown')]));
  const clusterRows = clusters.map((c) => {
    const versions: Record<string, string[]> = {};
    for (const node of c.order) (versions[versionOf.get(node) ?? 'unknown'] ??= []).push(node);
    const keys = Object.keys(versions);
    return { ...c, versions, onOneVersion: keys.length === 1 && keys[0] !== 'unknown' };
  });
  return { report: { firmware, clusters: clusterRows, summary, appliances: rows }, error, cause };
}

/** The report as a table a person reads at a glance. */
export function fleetUpgradeMarkdown(
  report: FleetUpgradeReport,
  at: Date,
  execution: string,
  end: { error: string | null; cause: string | null },
): string {
  const s = report.summary;
  const cell = (v: string | null) => (v ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `# Fleet upgrade to ${report.firmware.expectedVersion}, ${at.toISOString()}`,
    '',
    `${s.upgraded} upgraded, ${s.alreadyCurrent} already current, ${s.dryRunPassed} dry run passed, ` +
      `${s.failed} failed, ${s.notStarted} not started. Execution \`${execution}\`.` +
      (end.error ? ` Ended with **${end.error}**: ${cell(end.cause)}` : ' Succeeded.'),
    '',
    ...report.clusters.map((c) => {
      const on = Object.entries(c.versions)
        .map(([v, nodes]) => `${v} (${nodes.join(', ')})`)
        .join(', ');
      const before = [
        ...(c.mixedVersions ? ['on mixed versions before the rollout'] : []),
        ...(c.outOfSync.length ? [`configuration not in sync: ${c.outOfSync.join(', ')}`] : []),
      ];
      return `- Cluster **${c.name}** (${c.order.join(' → ')}): ${c.onOneVersion ? `all on ${Object.keys(c.versions)[0]}` : `**not on one version**: ${on}`}${before.length ? `; ${before.join('; ')}` : ''}.`;
    }),
    ...(report.clusters.length ? [''] : []),
    'Rows are in the inventory order; each failed upgrade names its own execution, which has its history.',
    '',
    '| appliance | cluster | roles | outcome | from | to | error | execution |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...report.appliances.map(
      (a) =>
        `| ${a.name} | ${cell(a.cluster)} | ${a.roles.join(', ')} | ${a.outcome} | ${cell(a.previousVersion)} | ` +
        `${cell(a.version)} | ${cell(a.error)} | ${a.execution ? `\`${a.execution.split(':').pop()}\`` : ''} |`,
    ),
    '',
  ].join('\n');
}

/**
 * The fleet upgrade's state after its plan: what the waves, the staging run, every child and the
 * report need, and the rollout not started. Kept small: a thousand appliances fit a state.
 */
export function fleetUpgradeState(
  given: FleetUpgradeInput,
  entries: readonly InventoryEntry[],
  values: ReadonlyMap<string, ApplianceValue>,
) {
  const { rollout, options, firmware } = given;
  const plan = planRollout(entries, firmware.expectedVersion, rollout);
  const clusterOf = new Map(plan.clusters.flatMap((c) => c.nodes.map((n) => [n.name, { c, roles: n.roles }] as const)));
  const appliances: FleetAppliance[] = entries.map((e) => ({
    name: e.name,
    cluster: clusterOf.get(e.name)?.c.name ?? null,
    roles: clusterOf.get(e.name)?.roles ?? e.roles,
    previousVersion: e.version,
  }));
  const waves: PlannedWave[] = plan.waves.map((w) => ({
    ...w,
    appliances: w.appliances.map((n) => values.get(n) ?? n),
  }));
  const targets = waves.flatMap((w) => w.appliances);
  // The fleet orders each cluster's nodes itself: every child may upgrade a cluster member.
  const childOptions = { ...options, dryRun: false, allowClusterMember: true };
  return {
    plan: {
      firmware,
      dryRun: options.dryRun,
      stage: (rollout.stageFirst || options.dryRun) && targets.length > 0,
      approval: rollout.approval,
      approvalTimeoutSeconds: rollout.approvalTimeoutMinutes * 60,
      maxFailures: rollout.maxFailures,
      window: rollout.window,
      appliances,
      clusters: plan.clusters.map((c) => ({
        name: c.name,
        order: c.nodes.map((n) => n.name),
        mixedVersions: c.mixedVersions,
        outOfSync: c.outOfSync,
      })),
      waves,
      child: { firmware, options: childOptions },
      stageRun: {
        workflow: 'firmware-upgrade',
        appliances: targets,
        input: { firmware, options: { ...childOptions, dryRun: true } },
        maxConcurrency: rollout.maxConcurrency,
      },
    },
    progress: ROLLOUT_START,
    finished: null,
    approval: null,
    stage: null,
    notes: null,
    stop: null,
  };
}
