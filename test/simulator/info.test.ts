import { Agent } from 'undici';
import { startSimulator, type Simulator } from '../../local/simulator';
import { call as callAs, login as loginAs } from './helpers';

/*
 * GET /api/info: "Note that part of this information is available without authentication"
 * (vendor page). Whoever has no valid session gets the anonymous view with 200; only a valid
 * session sees the authenticated view. Every other endpoint still answers 401 without one.
 */

const ANONYMOUS_FIELDS = ['domainname', 'hostname', 'nickname', 'plugin_sdk_version', 'support_link'];
const AUTHENTICATED_FIELDS = [
  'analytics_enabled',
  'build_date',
  'config_hash',
  'domainname',
  'firmware_version',
  'hostname',
  'nickname',
  'plugin_sdk_version',
  'roles',
  'support_link',
  'version',
];

let sim: Simulator;
let agent: Agent;
afterEach(async () => {
  await agent?.close();
  await sim?.close();
});

async function setup(scenario?: 'session-expires') {
  sim = await startSimulator({ appliances: [{ name: 'sps-sim-1', scenario, sessionIdleSeconds: 600 }] });
  agent = new Agent({ connect: { ca: sim.caPem } });
  return sim.appliance('sps-sim-1');
}
const call = (path: string, init?: Parameters<typeof callAs>[3]) => callAs(sim, agent, path, init);
const login = () => loginAs(sim, agent);
const info = (cookie?: string) => call('/api/info', { headers: cookie ? { cookie } : {} });

function expectAnonymous(res: Awaited<ReturnType<typeof info>>) {
  expect(res.status).toBe(200);
  expect(res.headers['set-cookie']).toBeUndefined();
  const json = res.json() as { body: Record<string, unknown>; key: string; meta: Record<string, unknown> };
  expect(Object.keys(json).sort()).toEqual(['body', 'key', 'meta']);
  expect(Object.keys(json.body).sort()).toEqual(ANONYMOUS_FIELDS);
  expect(json.key).toBe('about_info');
  expect(json.meta).toEqual({ href: '/api/info', parent: '/api' });
  expect(json.body.hostname).toBe('sps-sim-1');
}

function expectAuthenticated(res: Awaited<ReturnType<typeof info>>, firmwareVersion = '7.5.1') {
  expect(res.status).toBe(200);
  const json = res.json() as { body: Record<string, unknown>; key: string; meta: Record<string, unknown> };
  expect(Object.keys(json.body).sort()).toEqual(AUTHENTICATED_FIELDS);
  expect(json.body.firmware_version).toBe(firmwareVersion);
  expect(json.key).toBe('about_info');
  expect(Object.keys(json.meta).sort()).toEqual(['href', 'parent', 'remaining_seconds']);
  expect(json.meta).toMatchObject({ href: '/api/info', parent: '/api', remaining_seconds: 600 });
}

async function expect401(path: string, cookie: string) {
  const res = await call(path, { headers: { cookie } });
  expect(res.status).toBe(401);
  expect(res.json()).toMatchObject({ error: { type: 'Unauthenticated', details: { path } } });
}

describe('GET /api/info without a valid session: the anonymous view, 200', () => {
  it('no cookie', async () => {
    await setup();
    expectAnonymous(await info());
  });

  it('an unknown cookie, and a cookie without session_id', async () => {
    await setup();
    expectAnonymous(await info(`session_id=${'ab'.repeat(20)}`));
    expectAnonymous(await info('theme=dark'));
    await expect401('/api/firmware/slots', `session_id=${'ab'.repeat(20)}`);
  });

  it('a valid session sees the authenticated view, with exactly the sample fields', async () => {
    await setup();
    const cookie = await login();
    expectAuthenticated(await info(cookie));
  });

  it('an idle-expired session', async () => {
    await setup();
    const cookie = await login();
    sim.clock.advance(11 * 60_000);
    expectAnonymous(await info(cookie));
    await expect401('/api/firmware/slots', cookie);
    await expect401('/api/firmware', cookie);
  });

  it('sessions dropped by the appliance (expireSessions)', async () => {
    const a = await setup();
    const cookie = await login();
    a.expireSessions();
    expectAnonymous(await info(cookie));
    await expect401('/api/troubleshooting/support-bundle', cookie);
  });

  it('a session ended by the reboot of an upgrade', async () => {
    const a = await setup();
    a.startFetch('https://downloads.example.internal/sps-8.0.1.iso', { finished: true });
    const cookie = await login();
    const upgrade = await call('/api/firmware/upgrade', {
      method: 'POST',
      headers: { cookie },
      body: JSON.stringify({ slot_id: 2, message: 'to 8.0.1' }),
    });
    expect(upgrade.status).toBe(200);
    sim.clock.advance(10_000);
    await expect(info(cookie)).rejects.toThrow(); // down: connections are dropped
    sim.clock.advance(250_000);
    expect((await info(cookie)).status).toBe(503); // coming up
    sim.clock.advance(60_000);
    expectAnonymous(await info(cookie));
    await expect401('/api/firmware/slots', cookie);
    expectAuthenticated(await info(await login()), '8.0.1');
  });

  it('session-expires: after the session dies, /api/info answers the anonymous view', async () => {
    await setup('session-expires');
    const cookie = await login();
    for (let i = 0; i < 3; i++) expectAuthenticated(await info(cookie));
    expectAnonymous(await info(cookie));
    await expect401('/api/firmware/slots', cookie);
    expectAuthenticated(await info(await login()));
  });

  it('the anonymous view does not keep a session alive', async () => {
    await setup();
    const cookie = await login();
    sim.clock.advance(9 * 60_000);
    expectAuthenticated(await info(cookie)); // a valid session is used (and refreshed) by /api/info
    sim.clock.advance(11 * 60_000);
    expectAnonymous(await info(cookie));
    expectAnonymous(await info(cookie));
    await expect401('/api/firmware/slots', cookie);
  });
});
