import { Agent } from 'undici';
import {
  clusterAppliances,
  clusterProblems,
  clusterRoles,
  startSimulator,
  type ApplianceOptions,
  type Simulator,
} from '../../local/simulator';
import { fixture } from '../helpers/fixtures';
import { call as callAs, login as loginAs } from './helpers';

/*
 * Central Management clusters over real HTTPS: each node is its own appliance on its own loopback
 * address; the Central Management node lists the nodes and their status (vendor samples
 * cluster-nodes.json, cluster-node-one.json, cluster-status.json) from their current state.
 */

const URL_801 = 'https://downloads.example.internal/sps-8.0.1.iso';

let sim: Simulator;
let agent: Agent;
afterEach(async () => {
  await agent?.close();
  await sim?.close();
});

async function setup(...appliances: ApplianceOptions[]) {
  sim = await startSimulator({ appliances });
  agent = new Agent({ connect: { ca: sim.caPem } });
}
async function get(name: string, path: string) {
  return callAs(sim, agent, path, { headers: { cookie: await loginAs(sim, agent, name) } }, name);
}
const hostOf = (endpoint: string) => new URL(endpoint).hostname;

type Items = { items: Array<Record<string, unknown> & { key: string }>; meta: Record<string, unknown> };

/** prod-east: cm-1 (central management, search master), prod-east-2 … -4, and a standalone appliance. */
const PROD_EAST = clusterAppliances('prod-east', 4);
const CM = 'prod-east-1';

describe('Cluster layout', () => {
  it('when asked for n nodes, it gives one Central Management node and Search Master, minions, and a local-search managed host', () => {
    expect(clusterRoles(2)).toEqual([
      ['central-management', 'search-master'],
      ['managed-host', 'search-minion'],
    ]);
    expect(clusterRoles(4)).toEqual([
      ['central-management', 'search-master'],
      ['managed-host', 'search-minion'],
      ['managed-host', 'search-minion'],
      ['managed-host', 'search-local'],
    ]);
    for (const n of [1, 2, 3, 5, 10]) {
      expect(clusterProblems(clusterRoles(n).map((roles, i) => ({ name: `n${i}`, roles })))).toEqual([]);
    }
  });

  it.each([
    [[['search-master'], ['search-minion']], 'exactly one node must be central-management, not 0'],
    [
      [
        ['central-management', 'search-master'],
        ['central-management', 'search-minion'],
      ],
      'exactly one node must be central-management, not 2',
    ],
    [[['central-management', 'search-master'], ['search-master']], 'exactly one node must be search-master, not 2'],
    [[['central-management', 'search-master'], ['managed-host']], 'n1 needs exactly one search role, has 0'],
    [
      [
        ['central-management', 'search-master'],
        ['search-minion', 'search-local'],
      ],
      'n1 needs exactly one search role, has 2',
    ],
    [
      [
        ['central-management', 'search-master'],
        ['search-minion', 'witness'],
      ],
      'n1 has unknown roles witness',
    ],
  ])('when the roles are %j, it finds "%s"', (roles, problem) => {
    expect(clusterProblems(roles.map((r, i) => ({ name: `n${i}`, roles: r })))).toContain(problem);
  });

  it('when a cluster breaks the rules, the simulator does not start', async () => {
    await expect(
      startSimulator({
        appliances: [
          { name: 'a', cluster: 'bad', roles: ['central-management', 'search-master'] },
          { name: 'b', cluster: 'bad' },
        ],
      }),
    ).rejects.toThrow('cluster bad: b needs exactly one search role, has 0');
  });
});

describe('Simulator: a cluster', () => {
  it('when started, each node has its own loopback address, its roles in /api/info and the cluster interface enabled', async () => {
    await setup({ name: 'sps-alone' }, ...PROD_EAST);
    expect(hostOf(sim.appliance('sps-alone').endpoint)).toBe('127.0.0.1');
    const hosts = PROD_EAST.map((a) => hostOf(sim.appliance(a.name).endpoint));
    expect(new Set(hosts).size).toBe(4);
    for (const host of hosts) expect(host).toMatch(/^127\.0\.0\.\d+$/);
    expect(sim.appliance(CM)).toMatchObject({
      cluster: 'prod-east',
      nodeKey: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(sim.appliance('sps-alone').cluster).toBeUndefined();

    for (const { name, roles } of [...PROD_EAST, { name: 'sps-alone', roles: [] }]) {
      expect((await get(name, '/api/info')).json()).toMatchObject({ body: { roles } });
      const cluster = (await get(name, '/api/configuration/local_services/cluster')).json();
      expect(cluster).toMatchObject({ body: { enabled: name !== 'sps-alone' } });
    }
  });

  it('when the Central Management node is asked, it lists every node, and each node key leads to the address of its endpoint', async () => {
    await setup({ name: 'sps-alone' }, ...PROD_EAST);
    const list = await get(CM, '/api/cluster/nodes');
    expect(list.status).toBe(200);
    const nodes = list.json() as Items;
    expect(Object.keys(nodes)).toEqual(Object.keys(fixture('cluster-nodes.json') as object));
    expect(nodes.meta).toEqual({
      href: '/api/cluster/nodes',
      parent: '/api/cluster',
      remaining_seconds: 600,
      self: `/api/cluster/nodes/${sim.appliance(CM).nodeKey}`,
      status: '/api/cluster/status',
    });
    expect(nodes.items.map((i) => i.key).sort()).toEqual(PROD_EAST.map((a) => sim.appliance(a.name).nodeKey).sort());

    // A client matches each node to the appliance it was given by address.
    const byAddress = new Map(PROD_EAST.map((a) => [hostOf(sim.appliance(a.name).endpoint), a]));
    for (const item of nodes.items) {
      expect(item.meta).toEqual({ href: `/api/cluster/nodes/${item.key}`, status: `/api/cluster/status/${item.key}` });
      const one = (await get(CM, `/api/cluster/nodes/${item.key}`)).json() as {
        body: { address: string; roles: string[] };
        key: string;
      };
      expect(one.key).toBe(item.key);
      const appliance = byAddress.get(one.body.address);
      expect(appliance).toBeDefined();
      expect(sim.appliance(appliance!.name).nodeKey).toBe(item.key);
      expect(one.body.roles).toEqual(appliance!.roles);
    }
  });

  it('when a node reboots for an upgrade, the status shows its health_status null until it is back', async () => {
    await setup(
      ...PROD_EAST.map((a) => (a.name === 'prod-east-3' ? { ...a, sessionsInProgress: { ssh: 3, rdp: 4 } } : a)),
    );
    const statusOf = async (name: string) => {
      const status = (await get(CM, '/api/cluster/status')).json() as Items;
      return status.items.find((i) => i.key === sim.appliance(name).nodeKey)!;
    };

    const status = (await get(CM, '/api/cluster/status')).json() as Items;
    expect(status.meta).toMatchObject({ href: '/api/cluster/status', parent: '/api/cluster' });
    // The Central Management node's own entry is the sample's: no health, "n/a".
    expect(status.items[0]).toEqual({
      key: sim.appliance(CM).nodeKey,
      fqdn: `${CM}.example`,
      health_status: null,
      sync_status: 'n/a',
      meta: {
        configuration: `/api/cluster/nodes/${sim.appliance(CM).nodeKey}`,
        href: `/api/cluster/status/${sim.appliance(CM).nodeKey}`,
      },
    });
    expect(await statusOf('prod-east-3')).toMatchObject({
      fqdn: 'prod-east-3.example',
      health_status: { disk: 40, sessions: { ssh: 3, rdp: 4 }, total_sessions: 7 },
      sync_status: 'pending',
      configuration_sync: { issues: { warnings: [] } },
    });

    sim.appliance('prod-east-2').startFetch(URL_801, { finished: true });
    const cookie = await loginAs(sim, agent, 'prod-east-2');
    const upgrade = await callAs(
      sim,
      agent,
      '/api/firmware/upgrade',
      { method: 'POST', headers: { cookie }, body: JSON.stringify({ slot_id: 2, message: 'Upgrade' }) },
      'prod-east-2',
    );
    expect(upgrade.status).toBe(200);
    sim.clock.advance(10_000);
    const down = await statusOf('prod-east-2');
    expect(down).toMatchObject({ health_status: null, sync_status: 'pending' });
    // last_seen stays at the moment the node went down.
    sim.clock.advance(60_000);
    expect((await statusOf('prod-east-2')).last_seen).toBe(down.last_seen);
    expect(Date.parse(String(down.last_seen))).toBeLessThan(sim.clock.now() - 60_000);
    // The other nodes are unaffected; the rebooting one stays in the node list.
    expect((await statusOf('prod-east-3')).health_status).not.toBeNull();
    expect(((await get(CM, '/api/cluster/nodes')).json() as Items).items).toHaveLength(4);

    sim.clock.advance(300_000);
    expect(sim.appliance('prod-east-2').state()).toMatchObject({ rebooting: false, firmwareVersion: '8.0.1' });
    expect((await statusOf('prod-east-2')).health_status).toMatchObject({ disk: 40, total_sessions: 0 });
  });

  it('when a node other than the Central Management node is asked, it answers only for itself', async () => {
    await setup({ name: 'sps-alone' }, ...PROD_EAST);
    const minion = 'prod-east-2';
    for (const path of ['/api/cluster/nodes', '/api/cluster/status']) {
      for (const name of [minion, 'sps-alone']) {
        const res = await get(name, path);
        expect({ name, path, status: res.status }).toEqual({ name, path, status: 404 });
        expect(res.json()).toMatchObject({ error: { type: 'NotFound', details: { path } } });
      }
    }
    const own = await get(minion, `/api/cluster/nodes/${sim.appliance(minion).nodeKey}`);
    expect(own.status).toBe(200);
    expect(own.json()).toMatchObject({
      body: { address: hostOf(sim.appliance(minion).endpoint), roles: ['managed-host', 'search-minion'] },
      key: sim.appliance(minion).nodeKey,
    });
    const other = await get(minion, `/api/cluster/nodes/${sim.appliance(CM).nodeKey}`);
    expect(other.status).toBe(404);
    expect(other.json()).toMatchObject({ error: { type: 'ResourceNotFound' } });
    expect((await get(CM, '/api/cluster/nodes/00000000-0000-4000-a000-000000000000')).status).toBe(404);
    expect((await get('sps-alone', `/api/cluster/nodes/${sim.appliance(CM).nodeKey}`)).status).toBe(404);
  });

  it('when a node has a scenario, it misbehaves on its own: reboot-never-returns stays down, the cluster reports it so', async () => {
    await setup(
      ...PROD_EAST.map(
        (a) => ({ ...a, scenario: a.name === 'prod-east-4' ? 'reboot-never-returns' : 'precheck-fails' }) as const,
      ),
    );
    sim.appliance(CM).scenario = 'happy';
    for (const name of ['prod-east-3', 'prod-east-4']) sim.appliance(name).startFetch(URL_801, { finished: true });
    const test = await callAs(
      sim,
      agent,
      '/api/firmware/test',
      { method: 'POST', headers: { cookie: await loginAs(sim, agent, 'prod-east-3') }, body: '{"slot_id": 2}' },
      'prod-east-3',
    );
    expect(test.json()).toMatchObject({ error: { type: 'FirmwareTestFailed' } });

    const upgrade = await callAs(
      sim,
      agent,
      '/api/firmware/upgrade',
      {
        method: 'POST',
        headers: { cookie: await loginAs(sim, agent, 'prod-east-4') },
        body: JSON.stringify({ slot_id: 2, message: 'Upgrade' }),
      },
      'prod-east-4',
    );
    expect(upgrade.status).toBe(200);
    sim.clock.advance(30 * 24 * 3600 * 1000);
    expect(sim.appliance('prod-east-4').state()).toMatchObject({ rebooting: true, firmwareVersion: '7.5.1' });
    await expect(loginAs(sim, agent, 'prod-east-4')).rejects.toThrow();
    const status = (await get(CM, '/api/cluster/status')).json() as Items;
    const items = new Map(status.items.map((i) => [i.key, i]));
    expect(items.get(sim.appliance('prod-east-4').nodeKey!)).toMatchObject({ health_status: null });
    expect(items.get(sim.appliance('prod-east-3').nodeKey!)!.health_status).not.toBeNull();
  });
});
