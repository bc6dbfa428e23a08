import { createHash } from 'node:crypto';
import { SpsClient, type SpsClientOptions } from '../../lambdas/shared/sps/client';
import { MemorySessionStore } from '../../lambdas/shared/sps/session';
import { startSimulator, type ApplianceOptions, type Simulator } from '../../local/simulator';

/*
 * The SPS client against the simulator over real HTTPS on loopback: every operation, and every
 * scenario that concerns the client, seen through the client.
 */

const SHA = 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80';
let sim: Simulator;
const clients: SpsClient[] = [];

async function setup(appliance: Partial<ApplianceOptions> = {}, simOptions: Parameters<typeof startSimulator>[0] = {}) {
  sim = await startSimulator({ ...simOptions, appliances: [{ name: 'sps-sim-1', ...appliance }] });
  return sim.appliance('sps-sim-1');
}

function client(extra: Partial<SpsClientOptions> = {}) {
  const a = sim.appliance('sps-sim-1');
  const c = new SpsClient({
    endpoint: a.endpoint,
    credentials: { username: a.username, password: a.password },
    caCertificate: sim.caPem,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await sim?.close();
});

const minutes = (n: number) => sim.clock.advance(n * 60_000);

async function fetchIntoSlot(c: SpsClient): Promise<string> {
  const key = await c.startFirmwareFetch('https://downloads.example.internal/sps-8.0.1.iso', SHA);
  minutes(30);
  const job = await c.getFirmwareFetch(key);
  expect(job.status).toBe('finished');
  return job.slotId!;
}

describe('SpsClient against the simulator (HTTPS)', () => {
  it('logs in, reads info, firmware endpoints, slots and integrated products', async () => {
    await setup();
    const a = sim.appliance('sps-sim-1');
    const c = client({ credentials: { username: a.username, password: a.password, loginMethod: 'local' } });
    await expect(c.getInfo()).resolves.toMatchObject({ hostname: 'sps-sim-1', firmwareVersion: '7.5.1' });
    await expect(c.listFirmwareEndpoints()).resolves.toEqual(['fetch', 'slots', 'test', 'upgrade']);
    const slots = await c.listFirmwareSlots();
    expect(slots).toMatchObject({ emptyCount: 3, current: { id: '1', version: '7.5.1' } });
    await expect(c.getFirmwareSlot('1')).resolves.toMatchObject({ id: '1', current: true });
    await expect(c.getIntegratedProducts()).resolves.toEqual([]);
    const logins = sim.journal.entries().filter((e) => e.path === '/api/authentication');
    expect(logins).toHaveLength(1);
    expect(logins[0]!.query).toBe('?login_method=local');
    expect(sim.journal.entries().every((e) => e.userAgent?.startsWith('sps-workflows/'))).toBe(true);
  });

  it('follows a fetch to a slot, tests, upgrades through the reboot and sees the new version', async () => {
    const a = await setup();
    const c = client();
    const key = await c.startFirmwareFetch('https://downloads.example.internal/sps-8.0.1.iso', SHA);
    await expect(c.getFirmwareFetch(key)).resolves.toMatchObject({ status: 'queued' });
    minutes(5);
    const running = await c.getFirmwareFetch(key);
    expect(running).toMatchObject({ status: 'in-progress', info: 'Downloading' });
    expect(running.bytesDownloaded).toBeGreaterThan(0);
    await expect(c.listFirmwareFetches()).resolves.toHaveLength(1);
    minutes(25);
    const done = await c.getFirmwareFetch(key);
    expect(done).toMatchObject({ status: 'finished', slotId: '2' });
    await expect(c.testFirmware('2')).resolves.toEqual({
      slotId: '2',
      testSummary: 'HA check started\nHA check finished',
    });
    await c.upgradeFirmware('2', 'Upgrade to 8.0.1');
    sim.clock.advance(10_000);
    await expect(c.getInfo()).rejects.toMatchObject({ name: 'Sps.ConnectionError' });
    sim.clock.advance(250_000); // the last fifth of the reboot answers 503
    await expect(c.getInfo()).rejects.toMatchObject({ name: 'Sps.ServerError', status: 503 });
    minutes(2);
    await expect(c.getInfo()).resolves.toMatchObject({ firmwareVersion: '8.0.1' }); // sessions were dropped: one re-login
    expect(a.state().slots.find((s) => s.current)).toMatchObject({ key: '2' });
  });

  it('cancels a running fetch, then removes it', async () => {
    await setup();
    const c = client();
    const key = await c.startFirmwareFetch('https://downloads.example.internal/sps-8.0.1.iso', SHA);
    minutes(1);
    await c.deleteFirmwareFetch(key);
    await expect(c.getFirmwareFetch(key)).resolves.toMatchObject({ status: 'canceled' });
    await c.deleteFirmwareFetch(key);
    await expect(c.getFirmwareFetch(key)).rejects.toMatchObject({ name: 'Sps.NotFound', type: 'ResourceNotFound' });
  });

  it('maps the documented errors: empty slot, missing fields, slot deletion refused', async () => {
    await setup();
    const c = client();
    await expect(c.testFirmware('3')).rejects.toMatchObject({
      name: 'Sps.NotFound',
      details: { mount_point: '/firmware/test', resource: '3' },
    });
    await expect(c.deleteFirmwareSlot('1')).rejects.toMatchObject({
      name: 'Sps.ApiError',
      status: 400,
      type: 'SemanticError',
    });
    await expect(c.startFirmwareFetch('https://x/sps.iso', 'not-a-sha')).rejects.toMatchObject({
      type: 'InvalidFormat',
    });
    const slot = await fetchIntoSlot(c);
    await c.deleteFirmwareSlot(slot);
    await expect(c.getFirmwareSlot(slot)).resolves.toMatchObject({ empty: true });
  });

  it('creates, follows, downloads (streamed, intact) and deletes a support bundle', async () => {
    const a = await setup({ bundleBytes: 3 * 1024 * 1024 + 5 });
    const c = client();
    const key = await c.createSupportBundle();
    await expect(c.getSupportBundle(key)).resolves.toMatchObject({ status: 'in-progress' });
    await expect(c.downloadSupportBundle(key)).rejects.toMatchObject({ name: 'Sps.NotFound' });
    minutes(2);
    await expect(c.listSupportBundles()).resolves.toEqual([expect.objectContaining({ key, status: 'finished' })]);
    const download = await c.downloadSupportBundle(key);
    expect(download).toMatchObject({ contentType: 'application/zip', contentLength: 3 * 1024 * 1024 + 5 });
    const hash = createHash('sha256');
    for await (const chunk of download.body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(a.expectedBundle(key).sha256);
    await c.deleteSupportBundle(key);
    await expect(c.getSupportBundle(key)).rejects.toMatchObject({ name: 'Sps.NotFound' });
  });

  it('re-logs in once after the idle timeout and shares a session across clients through the store', async () => {
    await setup({ sessionIdleSeconds: 60 });
    const store = new MemorySessionStore();
    await client({ sessions: store }).getInfo();
    minutes(2);
    const second = client({ sessions: store });
    await expect(second.getInfo()).resolves.toMatchObject({ firmwareVersion: '7.5.1' });
    const paths = sim.journal.entries().map((e) => `${e.path} ${e.status}`);
    expect(paths).toEqual([
      '/api/authentication 200',
      '/api/info 200',
      '/api/info 200', // the expired session gets the anonymous view (no 401 on /api/info)
      '/api/authentication 200',
      '/api/info 200',
    ]);
  });

  it('refuses wrong credentials with Sps.AuthenticationFailed', async () => {
    await setup();
    await expect(client({ credentials: { username: 'admin', password: 'nope' } }).getInfo()).rejects.toMatchObject({
      name: 'Sps.AuthenticationFailed',
    });
    await expect(
      client({
        credentials: { username: 'admin', password: sim.appliance('sps-sim-1').password, loginMethod: 'ldap' },
      }).getInfo(),
    ).rejects.toMatchObject({ name: 'Sps.AuthenticationFailed' });
  });

  it('fails TLS clearly without the CA (untrusted issuer) and on a hostname mismatch', async () => {
    await setup();
    await expect(client({ caCertificate: undefined }).getInfo()).rejects.toMatchObject({
      name: 'Sps.TlsError',
      reason: 'untrusted-issuer',
    });
    await sim.close();
    await setup({}, { certificateHostnames: ['sps.invalid'] });
    await expect(client().getInfo()).rejects.toMatchObject({ name: 'Sps.TlsError', reason: 'hostname-mismatch' });
    // The explicit insecure switch connects anyway (and warns).
    const warnings: string[] = [];
    const insecure = client({
      caCertificate: undefined,
      insecureSkipTlsVerify: true,
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    await expect(insecure.getInfo()).resolves.toMatchObject({ hostname: 'sps-sim-1' });
    expect(warnings.join()).toMatch(/verification is OFF/);
  });

  it('times out a hanging response (headers timeout)', async () => {
    const a = await setup();
    const c = client({ timeouts: { headersMs: 300 } });
    await c.login();
    a.injectFault({ path: '/api/firmware/slots', kind: 'hang', times: 3 });
    await expect(c.listFirmwareSlots()).rejects.toMatchObject({ name: 'Sps.RequestTimeout', phase: 'headers' });
  });

  it('never repeats a POST that hit a 503 or a reset', async () => {
    const a = await setup();
    const c = client();
    a.injectFault({ method: 'POST', path: '/api/troubleshooting/support-bundle', kind: 'http-503' });
    await expect(c.createSupportBundle()).rejects.toMatchObject({ name: 'Sps.ServerError' });
    a.injectFault({ method: 'POST', path: '/api/firmware/fetch', kind: 'reset' });
    await expect(c.startFirmwareFetch('https://x/sps-8.0.1.iso', SHA)).rejects.toMatchObject({
      name: 'Sps.ConnectionError',
    });
    const posts = sim.journal.entries().filter((e) => e.method === 'POST');
    expect(posts.map((p) => p.status)).toEqual([503, 'reset']);
    expect(a.state().bundles).toEqual([]);
    expect(a.state().fetchJobs).toEqual([]);
  });
});

describe('scenarios through the client', () => {
  it('session-expires: sessions die after three calls; the client logs in again each time', async () => {
    await setup({ scenario: 'session-expires' });
    const c = client();
    for (let i = 0; i < 7; i++) await c.listFirmwareSlots();
    expect(sim.journal.entries().filter((e) => e.path === '/api/authentication')).toHaveLength(3);
  });

  it('flaky-5xx: bursts of two 503s on GETs are retried away', async () => {
    await setup({ scenario: 'flaky-5xx' });
    const c = client();
    for (let i = 0; i < 8; i++) await c.listFirmwareSlots();
    expect(sim.journal.entries().filter((e) => e.status === 503).length).toBeGreaterThanOrEqual(4);
  });

  it('connection-resets: resets on GETs are retried away', async () => {
    await setup({ scenario: 'connection-resets' });
    const c = client();
    for (let i = 0; i < 8; i++) await c.getInfo();
    expect(sim.journal.entries().filter((e) => e.status === 'reset').length).toBeGreaterThanOrEqual(4);
  });

  it('precheck-fails: FirmwareTestFailed with the summary, from test and from upgrade', async () => {
    await setup({ scenario: 'precheck-fails' });
    const c = client();
    const slot = await fetchIntoSlot(c);
    await expect(c.testFirmware(slot)).rejects.toMatchObject({
      name: 'Sps.PrecheckFailed',
      exitCode: 1,
      testSummary: expect.stringContaining('HA check failed'),
    });
    await expect(c.upgradeFirmware(slot, 'm')).rejects.toMatchObject({ name: 'Sps.PrecheckFailed' });
  });

  it('fetch-fails: the job fails with the appliance error text', async () => {
    await setup({ scenario: 'fetch-fails' });
    const c = client();
    const key = await c.startFirmwareFetch('https://x/sps-8.0.1.iso', SHA);
    minutes(10);
    await expect(c.getFirmwareFetch(key)).resolves.toMatchObject({
      status: 'failed',
      info: 'Firmware fetching failed',
      error: expect.stringContaining('ConnectionError'),
    });
  });

  it('no-empty-slot: every slot is taken', async () => {
    await setup({ scenario: 'no-empty-slot' });
    await expect(client().listFirmwareSlots()).resolves.toMatchObject({ emptyCount: 0 });
  });

  it('already-current: the appliance already runs 8.0.1', async () => {
    await setup({ scenario: 'already-current' });
    await expect(client().getInfo()).resolves.toMatchObject({ firmwareVersion: '8.0.1' });
  });

  it('bundle-fails: the job fails with the documented error text', async () => {
    await setup({ scenario: 'bundle-fails' });
    const c = client();
    const key = await c.createSupportBundle();
    minutes(2);
    await expect(c.getSupportBundle(key)).resolves.toMatchObject({
      status: 'failed',
      error: 'Timeout expired while waiting for creation of support-bundle.',
    });
  });

  it('busy-bundle-queue: a new job waits behind the running one', async () => {
    await setup({ scenario: 'busy-bundle-queue' });
    const c = client();
    const [other] = await c.listSupportBundles();
    expect(other).toMatchObject({ status: 'in-progress' });
    const key = await c.createSupportBundle();
    await expect(c.getSupportBundle(key)).resolves.toMatchObject({ status: 'queued' });
    minutes(3.5);
    await expect(c.getSupportBundle(key)).resolves.toMatchObject({ status: 'in-progress' });
  });

  it('truncated-download: the first download breaks off, the second is whole', async () => {
    const a = await setup({ scenario: 'truncated-download', bundleBytes: 4 * 1024 * 1024 });
    const c = client();
    const key = await c.createSupportBundle();
    minutes(2);
    const first = await c.downloadSupportBundle(key);
    await expect(
      (async () => {
        for await (const _ of first.body) {
          /* drain */
        }
      })(),
    ).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    const second = await c.downloadSupportBundle(key);
    const hash = createHash('sha256');
    for await (const chunk of second.body) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(a.expectedBundle(key).sha256);
  });

  it('slow-reboot: the appliance stays away for an hour', async () => {
    await setup({ scenario: 'slow-reboot' });
    const c = client();
    const slot = await fetchIntoSlot(c);
    await c.upgradeFirmware(slot, 'm');
    minutes(45);
    await expect(c.getInfo()).rejects.toMatchObject({ name: 'Sps.ConnectionError' });
    minutes(20);
    await expect(c.getInfo()).resolves.toMatchObject({ firmwareVersion: '8.0.1' });
  });
});
