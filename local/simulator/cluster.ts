import { createHash } from 'node:crypto';
import { unknownPath } from './answers';
import type { Appliance } from './appliance';
import { DOMAIN_NAME } from './info';
import type { ApplianceOptions } from './options';
import { healthStatus } from './preflight/health';
import { routesOf, type Call, type RouteModule } from './router';

/*
 * Central Management clusters (NOTES §2.5; vendor samples cluster-nodes.json, cluster-node-one.json,
 * cluster-status.json). Every node is an ordinary simulated appliance with its own endpoint; what
 * makes them a cluster is the `cluster` option they share and their `roles`. The Central Management
 * node answers for all of them, from their current state: a node that is rebooting is down.
 */

export const SEARCH_ROLES = ['search-master', 'search-minion', 'search-local'] as const;
export const CLUSTER_ROLES = ['central-management', 'managed-host', ...SEARCH_ROLES] as const;

/** What is wrong with a cluster's roles (the vendor's rules for role assignment); empty when nothing. */
export function clusterProblems(members: ReadonlyArray<{ name: string; roles: readonly string[] }>): string[] {
  const problems: string[] = [];
  const withRole = (role: string) => members.filter((m) => m.roles.includes(role)).map((m) => m.name);
  for (const m of members) {
    const unknown = m.roles.filter((r) => !(CLUSTER_ROLES as readonly string[]).includes(r));
    if (unknown.length) problems.push(`${m.name} has unknown roles ${unknown.join(', ')}`);
    const search = m.roles.filter((r) => (SEARCH_ROLES as readonly string[]).includes(r));
    if (search.length !== 1) problems.push(`${m.name} needs exactly one search role, has ${search.length}`);
  }
  for (const role of ['central-management', 'search-master']) {
    const holders = withRole(role);
    if (holders.length !== 1) problems.push(`exactly one node must be ${role}, not ${holders.length}`);
  }
  return problems;
}

/**
 * The roles of the nodes of an n-node cluster as `simulate --cluster n` lays it out: the first is
 * the Central Management node and the Search Master; the others are managed hosts and search
 * minions, except the last of three or more, a managed host that keeps its sessions searchable
 * locally (so every step of the vendor's upgrade order has a node).
 */
export function clusterRoles(size: number): string[][] {
  return Array.from({ length: size }, (_, i) => {
    if (i === 0) return ['central-management', 'search-master'];
    if (size >= 3 && i === size - 1) return ['managed-host', 'search-local'];
    return ['managed-host', 'search-minion'];
  });
}

/** The appliances of an n-node cluster named `cluster`: `<cluster>-1` … `<cluster>-n`, laid out by `clusterRoles`. */
export function clusterAppliances(
  cluster: string,
  size: number,
  options: Omit<ApplianceOptions, 'name' | 'cluster' | 'roles'> = {},
): ApplianceOptions[] {
  return clusterRoles(size).map((roles, i) => ({ ...options, name: `${cluster}-${i + 1}`, cluster, roles }));
}

/** A node key as the vendor samples write them (a UUID), derived from the cluster and node names. */
function nodeKey(cluster: string, name: string): string {
  const h = createHash('sha256').update(`${cluster}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface ClusterNode {
  readonly key: string;
  /** `body.address` of the node: the loopback address its endpoint listens on. */
  readonly address: string;
  readonly appliance: Appliance;
}

export class Cluster {
  readonly nodes: readonly ClusterNode[];

  /** `members` in the order given; each listens on its own `address`. Throws when the roles break the rules. */
  constructor(
    readonly name: string,
    members: ReadonlyArray<{ appliance: Appliance; address: string }>,
    /** When the cluster was formed: configuration_sync's `last_updated`. */
    readonly formedAt: number,
  ) {
    const problems = clusterProblems(
      members.map((m) => ({ name: m.appliance.name, roles: m.appliance.settings.roles })),
    );
    if (problems.length) throw new Error(`cluster ${name}: ${problems.join('; ')}`);
    this.nodes = members.map((m) => ({ key: nodeKey(name, m.appliance.name), ...m }));
    for (const node of this.nodes) node.appliance.cluster = this;
  }

  get centralManagement(): ClusterNode {
    return this.nodes.find((n) => n.appliance.settings.roles.includes('central-management'))!;
  }

  nodeOf(appliance: Appliance): ClusterNode {
    return this.nodes.find((n) => n.appliance === appliance)!;
  }
}

/** A date-time as the cluster samples write them: `2018-02-08T10:00:30Z`. */
const zulu = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * A node's entry in `/api/cluster/status`. The Central Management node's own entry is the
 * sample's: no health, `sync_status` "n/a", no `last_seen` or `configuration_sync` (it is up:
 * it answered). Another node's `health_status` is null while it reboots ("If the node is down,
 * the value is null"), and `last_seen` stays at the moment it went down.
 */
function statusOf(cluster: Cluster, node: ClusterNode, now: number) {
  const meta = { configuration: `/api/cluster/nodes/${node.key}`, href: `/api/cluster/status/${node.key}` };
  const { appliance } = node;
  const fqdn = `${appliance.name}.${DOMAIN_NAME}`;
  if (node === cluster.centralManagement) return { key: node.key, fqdn, health_status: null, sync_status: 'n/a', meta };
  const downSince = appliance.firmware.rebootStartedAt(now);
  const seen = zulu(downSince ?? now);
  return {
    key: node.key,
    last_seen: seen,
    fqdn,
    health_status: downSince === undefined ? healthOf(appliance) : null,
    // inferred: the docs show "n/a" (the Central Management node) and "pending", nothing else.
    sync_status: 'pending',
    configuration_sync: {
      last_updated: zulu(cluster.formedAt),
      last_checked: seen,
      // The configuration a node syncs is the Central Management node's.
      downloaded_xml_hash: cluster.centralManagement.appliance.configHash,
      // inferred: a simulated cluster has no conflicts to warn about.
      issues: { warnings: [] },
    },
    meta,
  };
}

/** The sample's summary of a node's health: its `/api/health_status` figures, and the protocols with sessions. */
function healthOf(appliance: Appliance) {
  const full = healthStatus(appliance.settings);
  const sessions: Record<string, number> = {};
  for (const [protocol, n] of Object.entries(appliance.settings.sessionsInProgress)) if (n) sessions[protocol] = n;
  return {
    memory: full.memory,
    disk: full.disk,
    swap: full.swap,
    load1: full.load1,
    load5: full.load5,
    load15: full.load15,
    sessions,
    total_sessions: Object.values(sessions).reduce((a, b) => a + b, 0),
  };
}

/**
 * The Central Management node answers for the whole cluster. Elsewhere (another node, a
 * standalone appliance) the docs are silent; the simulator answers as for any path the appliance
 * does not serve: 404 NotFound.
 */
function onCentralManagement(
  call: Call<Appliance>,
  answer: (cluster: Cluster, self: ClusterNode) => ReturnType<Call<Appliance>['ok']>,
) {
  const { cluster } = call.state;
  if (!cluster || cluster.centralManagement.appliance !== call.state) return unknownPath(call.req.path);
  return answer(cluster, cluster.centralManagement);
}

const route = routesOf<Appliance>();

// No prefix: the simulator serves three GETs of /api/cluster; any other path or method there is a 404.
export const CLUSTER_ROUTES: RouteModule<Appliance> = {
  routes: [
    route('/api/cluster/nodes', {
      // As in the sample, the items are in key order and `self` names the node that answered.
      GET: (call) =>
        onCentralManagement(call, (cluster, self) =>
          call.ok({
            items: [...cluster.nodes]
              .sort((a, b) => a.key.localeCompare(b.key))
              .map((n) => ({
                key: n.key,
                meta: { href: `/api/cluster/nodes/${n.key}`, status: `/api/cluster/status/${n.key}` },
              })),
            meta: {
              href: '/api/cluster/nodes',
              parent: '/api/cluster',
              self: `/api/cluster/nodes/${self.key}`,
              status: '/api/cluster/status',
            },
          }),
        ),
    }),

    /*
     * "Query the /api/cluster/nodes/<node-id> endpoint on the node that you want to query": a node
     * answers for itself, the Central Management node for every node. Another key there is a 404
     * ResourceNotFound (inferred); on a standalone appliance, 404 NotFound.
     */
    route('/api/cluster/nodes/:key', {
      GET: (call) => {
        const { cluster } = call.state;
        if (!cluster) return unknownPath(call.req.path);
        const answering = cluster.nodeOf(call.state);
        const node = cluster.nodes.find((n) => n.key === call.params.key);
        if (!node || (answering !== cluster.centralManagement && node !== answering)) {
          return call.notFound('/cluster/nodes', call.params.key!);
        }
        return call.ok({
          body: { address: node.address, roles: [...node.appliance.settings.roles] },
          key: node.key,
          meta: {
            href: `/api/cluster/nodes/${node.key}`,
            parent: '/api/cluster/nodes',
            status: `/api/cluster/status/${node.key}`,
          },
        });
      },
    }),

    route('/api/cluster/status', {
      // The Central Management node first, as in the sample; then the others in key order.
      GET: (call) =>
        onCentralManagement(call, (cluster, self) =>
          call.ok({
            items: [self, ...cluster.nodes.filter((n) => n !== self).sort((a, b) => a.key.localeCompare(b.key))].map(
              (n) => statusOf(cluster, n, call.now),
            ),
            meta: { href: '/api/cluster/status', parent: '/api/cluster', self: `/api/cluster/status/${self.key}` },
          }),
        ),
    }),
  ],
};
