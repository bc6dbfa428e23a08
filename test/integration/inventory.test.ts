import { planFleetUpgrade } from '../../lambdas/operations/fleet-upgrade';
import { clusterAppliances } from '../../local/simulator';
import { simulatedCredentials } from '../../local/simulator/credentials';
import { FIRMWARE_URL, SHA256, startHarness, type Harness } from '../helpers/workflow';

/*
 * A fleet upgrade's plan against simulated appliances and a simulated cluster: the input resolved
 * from the registry, every appliance inventoried (GETs only), the clusters matched and ordered.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const firmware = { url: FIRMWARE_URL, sha256: SHA256, expectedVersion: '8.0.1' };
type Planned = {
  plan: { waves: Array<{ kind: string; cluster?: string; appliances: string[] }>; appliances: unknown[] };
};
const plan = async (input: object) => (await planFleetUpgrade.run({ input }, h!.deps)) as Planned;
const planError = (input: object) =>
  planFleetUpgrade.run({ input }, h!.deps).then(
    () => undefined,
    (e: Error) => e,
  );
/** Requests other than GET, on every simulated appliance. */
const mutating = () =>
  h!.sim.journal.entries().filter((e) => e.method !== 'GET' && !e.path.startsWith('/api/authentication'));

describe('plan-fleet-upgrade', () => {
  it("reads versions and roles, and the cluster's members from its central management node, with GETs only", async () => {
    h = await startHarness([{ name: 'sps-1' }, ...clusterAppliances('east', 4)]);
    const { plan: planned } = await plan({ firmware, rollout: { canary: 1, maxConcurrency: 2 } });
    // In the registry's order (ListSecrets sorts by name).
    expect(planned.appliances).toEqual([
      ...[
        ['east-1', ['central-management', 'search-master']],
        ['east-2', ['managed-host', 'search-minion']],
        ['east-3', ['managed-host', 'search-minion']],
        ['east-4', ['managed-host', 'search-local']],
      ].map(([name, roles]) => ({ name, cluster: 'east', roles, previousVersion: '7.5.1' })),
      { name: 'sps-1', cluster: null, roles: [], previousVersion: '7.5.1' },
    ]);
    expect(mutating()).toEqual([]);
    // Minions first, then the other managed host, then the central management node (also search master).
    expect(planned.waves.map(({ kind, cluster, appliances }) => ({ kind, cluster, appliances }))).toEqual([
      { kind: 'canary', cluster: undefined, appliances: ['sps-1'] },
      { kind: 'cluster', cluster: 'east', appliances: ['east-2', 'east-3', 'east-4', 'east-1'] },
    ]);
  });

  it('narrows to one cluster by its credentials secrets', async () => {
    h = await startHarness([{ name: 'sps-1' }, ...clusterAppliances('east', 2), ...clusterAppliances('west', 2)]);
    const { plan: planned } = await plan({ firmware, cluster: 'west' });
    expect(planned.waves.map((w) => w.appliances)).toEqual([['west-2', 'west-1']]);
    expect(h.sim.journal.entries().filter((e) => !e.appliance.startsWith('west'))).toEqual([]);
  });

  it('finds a cluster incomplete when the input leaves a member out, before anything changes', async () => {
    h = await startHarness(clusterAppliances('east', 3));
    const error = await planError({ firmware, appliances: ['east-1', 'east-2'] });
    expect(error).toMatchObject({ name: 'Fleet.IncompleteCluster', message: expect.stringContaining('127.0.0.4') });
    expect(mutating()).toEqual([]);
  });

  it('lists every bad name at once, before any request', async () => {
    h = await startHarness([{ name: 'sps-1' }, { name: 'sps-2' }]);
    const error = await planError({
      firmware,
      appliances: ['nope', 'sps-1', 'sps-1', { name: 'sps-2', endpoint: 'https://other.example.internal' }],
    });
    expect(error).toMatchObject({ name: 'Input.Invalid' });
    expect((error as Error).message).toMatch(/appliances\.2: same name as appliances\.1/);
    expect(h.sim.journal.entries()).toEqual([]);
  });

  it('stops with Fleet.InventoryFailed naming each appliance it cannot read', async () => {
    h = await startHarness([{ name: 'sps-1' }, { name: 'sps-2' }]);
    const credentials = simulatedCredentials(h.sim, h.sim.appliance('sps-2'));
    await h.secrets.put('sps/sps-2', JSON.stringify({ ...credentials, password: 'wrong-password' }));
    const error = await planError({ firmware });
    expect(error).toMatchObject({
      name: 'Fleet.InventoryFailed',
      message: expect.stringContaining('sps-2 (Sps.AuthenticationFailed'),
    });
    expect(mutating()).toEqual([]);
  });
});
