import { inventoryAppliance } from '../../lambdas/operations/inventory';
import { planRollout, type InventoryEntry } from '../../lambdas/shared/fleet-upgrade';
import { clusterAppliances } from '../../local/simulator';
import { startHarness, type Harness } from '../helpers/workflow';

/* A fleet upgrade's inventory against simulated appliances and a simulated cluster, then its plan. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function inventory(names: string[]): Promise<InventoryEntry[]> {
  const entries: InventoryEntry[] = [];
  for (const name of names) {
    const cluster = name.startsWith('east-') ? 'east' : null;
    entries.push(await inventoryAppliance.run({ appliance: h!.ref(name), cluster }, h!.deps));
  }
  return entries;
}

describe('inventory-appliance', () => {
  it("reads versions and roles, and the cluster's members from its central management node, with GETs only", async () => {
    h = await startHarness([{ name: 'sps-1' }, ...clusterAppliances('east', 4)]);
    const entries = await inventory(['sps-1', 'east-1', 'east-2', 'east-3', 'east-4']);
    expect(entries.map((e) => [e.name, e.version, e.roles.length > 0, e.members?.length ?? null])).toEqual([
      ['sps-1', '7.5.1', false, null],
      ['east-1', '7.5.1', true, 4],
      ['east-2', '7.5.1', true, null],
      ['east-3', '7.5.1', true, null],
      ['east-4', '7.5.1', true, null],
    ]);
    expect(h.sim.journal.entries().filter((e) => e.method !== 'GET')).toEqual([]);
    const plan = planRollout(entries, '8.0.1', { canary: 1, maxConcurrency: 2 });
    // Minions first, then the other managed host, then the central management node (also search master).
    expect(plan.waves).toEqual([
      { kind: 'canary', appliances: ['sps-1'] },
      { kind: 'cluster', cluster: 'east', appliances: ['east-2'] },
      { kind: 'cluster', cluster: 'east', appliances: ['east-3'] },
      { kind: 'cluster', cluster: 'east', appliances: ['east-4'] },
      { kind: 'cluster', cluster: 'east', appliances: ['east-1'] },
    ]);
  });

  it('finds a cluster incomplete when the input leaves a member out', async () => {
    h = await startHarness(clusterAppliances('east', 3));
    const entries = await inventory(['east-1', 'east-2']);
    expect(() => planRollout(entries, '8.0.1', { canary: 0, maxConcurrency: 1 })).toThrow(
      expect.objectContaining({ name: 'Fleet.IncompleteCluster', message: expect.stringContaining('127.0.0.4') }),
    );
  });
});
