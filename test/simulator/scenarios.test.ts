import { Agent } from 'undici';
import { startSimulator, type ApplianceOptions, type Simulator } from '../../local/simulator';
import { call as callAs, login as loginAs } from './helpers';

/* The scenarios upgrade-502, upgrade-reverts and foreign-fetch, and operator downloads (startFetch). */

const URL_801 = 'https://downloads.example.internal/sps-8.0.1.iso';
const SHA = 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80';

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
const call = (name: string, path: string, init?: Parameters<typeof callAs>[3]) => callAs(sim, agent, path, init, name);
const login = (name: string) => loginAs(sim, agent, name);
const seconds = (n: number) => sim.clock.advance(n * 1000);

async function upgrade(name: string, cookie: string, slotId: number) {
  return call(name, '/api/firmware/upgrade', {
    method: 'POST',
    headers: { cookie },
    body: JSON.stringify({ slot_id: slotId, message: 'Upgrade' }),
  });
}

/** What a test sees of an appliance: slots, version, reboot (fetch and bundle keys differ between appliances). */
const visible = (name: string) => {
  const { firmwareVersion, rebooting, slots, sessions } = sim.appliance(name).state();
  return { firmwareVersion, rebooting, slots, sessions };
};

describe('upgrade-502', () => {
  it('carries the upgrade out exactly as on success, but answers 502 with an HTML page', async () => {
    await setup({ name: 'ok' }, { name: 'bad', scenario: 'upgrade-502' });
    for (const name of ['ok', 'bad']) sim.appliance(name).startFetch(URL_801, { finished: true });
    const [okRes, badRes] = await Promise.all(['ok', 'bad'].map(async (name) => upgrade(name, await login(name), 2)));
    expect(okRes!.status).toBe(200);
    expect(badRes!.status).toBe(502);
    expect(badRes!.headers['content-type']).toBe('text/html');
    expect(badRes!.text).toContain('<title>502 Bad Gateway</title>');
    expect(visible('bad')).toEqual(visible('ok'));
    expect(visible('bad').slots.find((s) => s.key === '2')).toMatchObject({ afterReboot: true, current: false });
    expect(visible('bad').slots.find((s) => s.key === '1')).toMatchObject({ afterReboot: false, current: true });
    // The reboot follows, as after an answered upgrade.
    for (const step of [10, 240, 60]) {
      seconds(step);
      expect(visible('bad')).toEqual(visible('ok'));
    }
    expect(visible('bad')).toMatchObject({ firmwareVersion: '8.0.1', rebooting: false, sessions: 0 });
    const info = await call('bad', '/api/info', { headers: { cookie: await login('bad') } });
    expect(info.json()).toMatchObject({ body: { firmware_version: '8.0.1' } });
  });

  it('still refuses what it refuses on success (missing fields, empty slot)', async () => {
    await setup({ name: 'bad', scenario: 'upgrade-502' });
    const cookie = await login('bad');
    expect((await upgrade('bad', cookie, 3)).status).toBe(404);
    expect(visible('bad').slots.every((s) => s.afterReboot === s.current)).toBe(true);
  });
});

describe('upgrade-reverts', () => {
  it('reboots and comes back on the previous firmware', async () => {
    await setup({ name: 'sps', scenario: 'upgrade-reverts' });
    const a = sim.appliance('sps');
    a.startFetch(URL_801, { finished: true });
    const cookie = await login('sps');
    const res = await upgrade('sps', cookie, 2);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ key: '2', body: { test_summary: expect.any(String) } });
    expect(a.state().slots.find((s) => s.key === '2')).toMatchObject({ afterReboot: true, current: false });

    seconds(10);
    expect(a.state().rebooting).toBe(true);
    await expect(call('sps', '/api/info')).rejects.toThrow(); // down
    seconds(250);
    expect((await call('sps', '/api/info')).status).toBe(503); // coming up
    seconds(60);
    expect(a.state()).toMatchObject({ rebooting: false, firmwareVersion: '7.5.1', sessions: 0 });
    expect(a.state().slots.slice(0, 2)).toEqual([
      { key: '1', version: '7.5.1', current: true, afterReboot: true },
      { key: '2', version: '8.0.1', current: false, afterReboot: false },
    ]);

    // The old session is gone: anonymous info, 401 elsewhere.
    expect((await call('sps', '/api/info', { headers: { cookie } })).json()).not.toHaveProperty(
      'body.firmware_version',
    );
    expect((await call('sps', '/api/firmware/slots', { headers: { cookie } })).status).toBe(401);
    const fresh = await login('sps');
    expect((await call('sps', '/api/info', { headers: { cookie: fresh } })).json()).toMatchObject({
      body: { firmware_version: '7.5.1' },
    });
    const slots = (await call('sps', '/api/firmware/slots', { headers: { cookie: fresh } })).json();
    expect(slots).toMatchObject({
      meta: { current_slot: '/api/firmware/slots/1', slot_after_reboot: '/api/firmware/slots/1' },
    });
    expect((slots.items as unknown[])[1]).toMatchObject({
      key: '2',
      body: { version: '8.0.1', current: false, after_reboot: false },
    });
  });
});

describe('foreign-fetch', () => {
  it("starts with an operator's download of the default URL in progress", async () => {
    await setup({ name: 'sps', scenario: 'foreign-fetch' });
    const jobs = sim.appliance('sps').state().fetchJobs;
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ url: URL_801, status: 'in-progress', info: 'Downloading' });
    const list = (await call('sps', '/api/firmware/fetch', { headers: { cookie: await login('sps') } })).json();
    const items = list.items as Array<{ key: string; body: Record<string, unknown> }>;
    expect(items).toHaveLength(1);
    expect(items[0]!.body).toMatchObject({ status: 'in-progress', url: URL_801, slot_id: null });
    expect(items[0]!.body.bytes_downloaded).toBeGreaterThan(0);
    expect(Date.parse(String(items[0]!.body.start_time))).toBeLessThan(sim.clock.now());
    seconds(30 * 60);
    expect(
      sim
        .appliance('sps')
        .state()
        .slots.find((s) => s.key === '2'),
    ).toMatchObject({ version: '8.0.1' });
  });

  it("downloads the catalog's first URL, installing foreignFetchVersion when given", async () => {
    const catalog = [{ url: 'https://mirror.example.internal/sps/latest.iso', version: '8.1.0', sha256: SHA }];
    await setup(
      { name: 'catalog', scenario: 'foreign-fetch', firmwareCatalog: catalog },
      { name: 'other', scenario: 'foreign-fetch', firmwareCatalog: catalog, foreignFetchVersion: '7.6.2' },
    );
    expect(sim.appliance('catalog').state().fetchJobs[0]).toMatchObject({ url: catalog[0]!.url });
    expect(sim.appliance('other').state().fetchJobs[0]).toMatchObject({ url: catalog[0]!.url });
    seconds(30 * 60);
    expect(sim.appliance('catalog').state().fetchJobs[0]).toMatchObject({ status: 'finished', slot_id: 2 });
    expect(sim.appliance('catalog').state().slots[1]).toMatchObject({ version: '8.1.0' });
    expect(sim.appliance('other').state().slots[1]).toMatchObject({ version: '7.6.2' });
  });

  it('a fetch the workflow starts runs beside the foreign one and takes the next empty slot', async () => {
    await setup({ name: 'sps', scenario: 'foreign-fetch' });
    const cookie = await login('sps');
    const started = await call('sps', '/api/firmware/fetch', {
      method: 'POST',
      headers: { cookie },
      body: JSON.stringify({ url: URL_801, checksum: { sha256: SHA } }),
    });
    expect(started.status).toBe(202);
    seconds(30 * 60);
    const jobs = sim.appliance('sps').state().fetchJobs;
    expect(jobs.map((j) => [j.status, j.slot_id])).toEqual([
      ['finished', 2],
      ['finished', 3],
    ]);
  });
});

describe('startFetch (an operator in the web interface)', () => {
  it('starts a download that progresses like a REST one and returns its key', async () => {
    await setup({ name: 'sps' });
    const a = sim.appliance('sps');
    const key = a.startFetch('https://downloads.example.internal/sps-8.2.0.iso');
    const cookie = await login('sps');
    const get = async () => (await call('sps', `/api/firmware/fetch/${key}`, { headers: { cookie } })).json();
    expect(await get()).toMatchObject({ key, body: { status: 'queued', start_time: null } });
    seconds(60);
    expect(await get()).toMatchObject({ body: { status: 'in-progress', info: 'Downloading' } });
    seconds(30 * 60);
    expect(a.state().fetchJobs[0]).toMatchObject({ key, status: 'finished', slot_id: 2 });
    expect(a.state().slots[1]).toMatchObject({ version: '8.2.0' });
  });

  it('finished: already over and filled the first empty slot, with the given version', async () => {
    await setup({ name: 'sps', slotCount: 3 });
    const a = sim.appliance('sps');
    const key = a.startFetch('https://downloads.example.internal/custom.iso', { version: '7.9.9', finished: true });
    const res = await call('sps', `/api/firmware/fetch/${key}`, { headers: { cookie: await login('sps') } });
    expect(res.json()).toMatchObject({
      key,
      body: { status: 'finished', slot_id: 2, error: null, info: null },
      meta: { slot: '/api/firmware/slots/2' },
    });
    expect(a.state().slots[1]).toMatchObject({ version: '7.9.9', current: false, afterReboot: false });
    a.startFetch('https://downloads.example.internal/sps-8.0.1.iso', { finished: true });
    expect(() => a.startFetch('https://downloads.example.internal/sps-8.0.2.iso', { finished: true })).toThrow(
      /no empty firmware slot/,
    );
  });

  it('a wrong checksum (against the catalog) fails after the download', async () => {
    const catalog = [{ url: URL_801, version: '8.0.1', sha256: SHA }];
    await setup({ name: 'sps', firmwareCatalog: catalog });
    const a = sim.appliance('sps');
    a.startFetch(URL_801, { sha256: '0'.repeat(64) });
    seconds(30 * 60);
    expect(a.state().fetchJobs[0]).toMatchObject({ status: 'failed', info: 'Firmware fetching failed' });
    expect(a.state().slots.filter((s) => s.version !== undefined)).toHaveLength(1);
  });
});
