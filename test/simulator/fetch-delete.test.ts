import { Agent } from 'undici';
import { startSimulator, type ScenarioName, type Simulator } from '../../local/simulator';
import { call as callAs, login as loginAs } from './helpers';

/*
 * DELETE /api/firmware/fetch/<key>, as the vendor page has it: "You can safely cancel running a
 * SPS firmware file download while the status of the download is queued or in-progress. [...]
 * the status information remains in the queue, and can be removed by sending a second DELETE
 * request to the same URL." and "Remove status information of finished, failed, and cancelled
 * downloads". A removed record is gone: GET answers 404 ResourceNotFound.
 */

const URL_801 = 'https://downloads.example.internal/sps-8.0.1.iso';
const SHA = 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80';

let sim: Simulator;
let agent: Agent;
let cookie: string;
afterEach(async () => {
  await agent?.close();
  await sim?.close();
});

async function setup(scenario?: ScenarioName) {
  // A long idle timeout: the clock jumps by half an hour in some tests.
  sim = await startSimulator({ appliances: [{ name: 'sps', scenario, sessionIdleSeconds: 24 * 3600 }] });
  agent = new Agent({ connect: { ca: sim.caPem } });
  cookie = await loginAs(sim, agent);
  return sim.appliance('sps');
}
const call = (path: string, method = 'GET', body?: unknown) =>
  callAs(sim, agent, path, {
    method,
    headers: { cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const minutes = (n: number) => sim.clock.advance(n * 60_000);

async function start(): Promise<string> {
  const res = await call('/api/firmware/fetch', 'POST', { url: URL_801, checksum: { sha256: SHA } });
  expect(res.status).toBe(202);
  return String(res.json().key);
}
const get = (key: string) => call(`/api/firmware/fetch/${key}`);
const del = (key: string) => call(`/api/firmware/fetch/${key}`, 'DELETE');
const status = async (key: string) => ((await get(key)).json().body as { status: string }).status;
const listed = async () =>
  ((await call('/api/firmware/fetch')).json().items as Array<{ key: string }>).map((i) => i.key);

async function expectGone(key: string) {
  const res = await get(key);
  expect(res.status).toBe(404);
  expect(res.json()).toEqual({
    error: {
      type: 'ResourceNotFound',
      message: 'Resource was not found',
      details: { mount_point: '/firmware/fetch', resource: key },
    },
    meta: { href: `/api/firmware/fetch/${key}`, parent: '/api/firmware/fetch' },
  });
  expect(await listed()).not.toContain(key);
  expect((await del(key)).status).toBe(404);
}

describe('DELETE /api/firmware/fetch/<key>', () => {
  it('queued: the first DELETE cancels (the record stays), the second removes it', async () => {
    const a = await setup();
    const key = await start();
    expect(await status(key)).toBe('queued');
    expect((await del(key)).status).toBe(200);
    const canceled = (await get(key)).json();
    expect(canceled).toMatchObject({
      key,
      body: { status: 'canceled', start_time: null, bytes_downloaded: 0, slot_id: null },
    });
    expect(await listed()).toEqual([key]);
    minutes(30);
    expect(await status(key)).toBe('canceled'); // never resumes, fills no slot
    expect(a.state().slots.filter((s) => s.version !== undefined)).toHaveLength(1);
    expect((await del(key)).status).toBe(200);
    await expectGone(key);
  });

  it('in-progress: the first DELETE cancels (the record stays), the second removes it', async () => {
    const a = await setup();
    const key = await start();
    minutes(2);
    expect(await status(key)).toBe('in-progress');
    expect((await del(key)).status).toBe(200);
    const body = (await get(key)).json().body as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'canceled', slot_id: null, start_time: expect.any(String) });
    expect(body.bytes_downloaded).toBeGreaterThan(0);
    minutes(30);
    expect(await status(key)).toBe('canceled');
    expect(a.state().slots.filter((s) => s.version !== undefined)).toHaveLength(1);
    expect((await del(key)).status).toBe(200);
    await expectGone(key);
  });

  it('finished: one DELETE removes the record; the slot keeps its firmware', async () => {
    const a = await setup();
    const key = await start();
    minutes(30);
    expect(await status(key)).toBe('finished');
    expect((await del(key)).status).toBe(200);
    await expectGone(key);
    expect(a.state().slots[1]).toMatchObject({ version: '8.0.1' });
  });

  it('failed: one DELETE removes the record', async () => {
    await setup('fetch-fails');
    const key = await start();
    minutes(30);
    expect(await status(key)).toBe('failed');
    expect((await del(key)).status).toBe(200);
    await expectGone(key);
  });

  it('only the addressed record goes; an unknown key is 404', async () => {
    await setup();
    const [one, two] = [await start(), await start()];
    minutes(30);
    await del(one);
    expect(await listed()).toEqual([two]);
    await expectGone('00000000-0000-0000-0000-000000000000');
  });
});
