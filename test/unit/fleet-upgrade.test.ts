import { planRollout, type ClusterMember, type InventoryEntry } from '../../lambdas/shared/fleet-upgrade';

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
    const plan = planRollout(cluster({ cmVersion: '8.0.1', minionSync: 'pending' }), '8.0.1', {
      canary: 1,
      maxConcurrency: 1,
    });
    expect(plan.skipped).toEqual([{ name: 'cm', reason: 'already runs 8.0.1' }]);
    expect(plan.waves.flatMap((w) => w.appliances)).toEqual(['minion', 'host']);
    expect(plan.clusters[0]).toMatchObject({ mixedVersions: true, outOfSync: ['minion'] });
  });
});
