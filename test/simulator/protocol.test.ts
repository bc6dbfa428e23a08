import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { startSimulator, type Simulator } from '../../local/simulator';

/* The simulator's own rules, driven with plain HTTP requests (no SPS client in between). */

let sim: Simulator;
let agent: Agent;
beforeEach(async () => {
  sim = await startSimulator({
    appliances: [{ name: 'sps-sim-1' }, { name: 'sps-sim-2', scenario: 'precheck-fails' }],
  });
  agent = new Agent({ connect: { ca: sim.caPem } });
});
afterEach(async () => {
  await agent.close();
  await sim.close();
});

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

async function call(
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  name = 'sps-sim-1',
) {
  const res = await request(`${sim.appliance(name).endpoint}${path}`, {
    dispatcher: agent,
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

async function login(name = 'sps-sim-1'): Promise<string> {
  const a = sim.appliance(name);
  const res = await call('/api/authentication', { headers: { authorization: basic(a.username, a.password) } }, name);
  expect(res.status).toBe(200);
  const cookie = String(res.headers['set-cookie']);
  expect(cookie).toMatch(/^session_id=[0-9a-f]{40}; expires=.+; Path=\/; HttpOnly$/);
  return cookie.split(';')[0]!;
}

describe('SPS simulator protocol', () => {
  it('serves several appliances on their own ports with one CA', () => {
    const [a, b] = sim.appliances;
    expect(a!.endpoint).not.toBe(b!.endpoint);
    expect(a!.password).not.toBe(b!.password);
    expect(sim.caPem).toContain('BEGIN CERTIFICATE');
  });

  it('answers 401 with the SPS envelope and WWW-Authenticate to wrong credentials', async () => {
    const res = await call('/api/authentication', { headers: { authorization: basic('admin', 'wrong') } });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Basic realm="SPS"');
    expect(res.json()).toMatchObject({ error: { type: 'Unauthenticated' } });
  });

  it('shows firmware_version only to authenticated callers; 401 without a session elsewhere', async () => {
    expect((await call('/api/info')).json()).not.toHaveProperty('body.firmware_version');
    const cookie = await login();
    expect((await call('/api/info', { headers: { cookie } })).json()).toHaveProperty('body.firmware_version', '7.5.1');
    const res = await call('/api/firmware/slots');
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: { type: 'Unauthenticated', details: { path: '/api/firmware/slots' } } });
  });

  it('expires idle sessions on the simulated clock', async () => {
    const cookie = await login();
    sim.clock.advance(9 * 60_000);
    expect((await call('/api/firmware/slots', { headers: { cookie } })).status).toBe(200);
    sim.clock.advance(11 * 60_000);
    expect((await call('/api/firmware/slots', { headers: { cookie } })).status).toBe(401);
  });

  it('answers 411 to a body-less POST without Content-Length', async () => {
    const cookie = await login();
    // Written by hand: HTTP clients add Content-Length: 0 by themselves.
    const { port } = new URL(sim.appliance('sps-sim-1').endpoint);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port), ca: sim.caPem }, () => {
        socket.write(
          `POST /api/troubleshooting/support-bundle HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
        );
      });
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1.1 411 /);
    expect(raw).toContain('content-type: text/html');
  });

  it('answers 403 to a mutating call from a browser-like client without X-Token', async () => {
    const cookie = await login();
    const browser = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) PowerShell/7.4';
    const refused = await call('/api/troubleshooting/support-bundle', {
      method: 'POST',
      headers: { cookie, 'user-agent': browser, 'content-length': '0' },
    });
    expect(refused.status).toBe(403);
    expect(refused.json()).toMatchObject({
      error: { type: 'Unauthorized', message: expect.stringContaining('X-Token') },
    });
    const withToken = await call('/api/troubleshooting/support-bundle', {
      method: 'POST',
      headers: { cookie, 'user-agent': browser, 'x-token': 't', 'content-length': '0' },
    });
    expect(withToken.status).toBe(201);
  });

  it('rejects a JSON body without the JSON content type', async () => {
    const cookie = await login();
    const res = await call('/api/firmware/test', {
      method: 'POST',
      headers: { cookie, 'content-type': 'text/plain' },
      body: '{"slot_id":1}',
    });
    expect(res.json()).toMatchObject({ error: { type: 'InvalidFormat' } });
  });

  it('rejects a test without slot_id and an upgrade without message (IncompleteRequestBodyError)', async () => {
    const cookie = await login();
    const json = { cookie, 'content-type': 'application/json' };
    expect((await call('/api/firmware/test', { method: 'POST', headers: json, body: '{}' })).json()).toMatchObject({
      error: { type: 'IncompleteRequestBodyError', details: { missing_paths: ['slot_id'] } },
    });
    expect(
      (await call('/api/firmware/upgrade', { method: 'POST', headers: json, body: '{"slot_id":1}' })).json(),
    ).toMatchObject({
      error: { type: 'IncompleteRequestBodyError', details: { missing_paths: ['message'] } },
    });
  });

  it('answers per appliance: one passes the precheck, the other fails it', async () => {
    const json = { 'content-type': 'application/json' };
    const ok = await call('/api/firmware/test', {
      method: 'POST',
      headers: { ...json, cookie: await login() },
      body: '{"slot_id":1}',
    });
    const failed = await call(
      '/api/firmware/test',
      { method: 'POST', headers: { ...json, cookie: await login('sps-sim-2') }, body: '{"slot_id":1}' },
      'sps-sim-2',
    );
    expect(ok.json()).toMatchObject({ body: { test_summary: 'HA check started\nHA check finished' } });
    expect(failed.json()).toMatchObject({ error: { type: 'FirmwareTestFailed', details: { exit_code: 1 } } });
  });

  it('forgets bundles after 24 hours', async () => {
    const cookie = await login();
    await call('/api/troubleshooting/support-bundle', { method: 'POST', headers: { cookie, 'content-length': '0' } });
    sim.clock.advance(2 * 60_000);
    expect(sim.appliance('sps-sim-1').state().bundles).toHaveLength(1);
    sim.clock.advance(24 * 3600_000);
    expect(sim.appliance('sps-sim-1').state().bundles).toHaveLength(0);
  });

  it('keeps a journal without credentials or session ids', async () => {
    const cookie = await login();
    await call('/api/firmware/slots', { headers: { cookie } });
    const entries = sim.journal.for('sps-sim-1');
    expect(entries.map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      'GET /api/authentication 200',
      'GET /api/firmware/slots 200',
    ]);
    const text = JSON.stringify(sim.journal.entries());
    expect(text).not.toContain(sim.appliance('sps-sim-1').password);
    expect(text).not.toContain(cookie.split('=')[1]);
  });

  it('runs its clock accelerated', async () => {
    const fast = await startSimulator({ timeScale: 600 });
    const before = fast.clock.now();
    await new Promise((r) => setTimeout(r, 100));
    expect(fast.clock.now() - before).toBeGreaterThanOrEqual(50_000);
    await fast.close();
  });
});
