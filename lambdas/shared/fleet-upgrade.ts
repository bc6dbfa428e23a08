import { NamedError } from './errors';
import { planWaves, type Wave } from './rollout';
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
  /** Members whose configuration is not in sync (`sync_status` other than "n/a"/"synced"). */
  outOfSync: string[];
}

export interface RolloutPlan {
  waves: Wave[];
  clusters: PlannedCluster[];
  skipped: Array<{ name: string; reason: string }>;
}

const hostOf = (endpoint: string) => new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
const IN_SYNC = new Set(['n/a', 'synced', 'in-sync', 'ok']);

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
  const order = new Map(waves.flatMap((w, i) => w.appliances.map((a) => [a, i] as const)));
  for (const c of clusters) c.nodes.sort((a, b) => (order.get(a.name) ?? -1) - (order.get(b.name) ?? -1));
  return { waves, clusters, skipped };
}
