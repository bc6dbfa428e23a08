import { MockAgent } from 'undici';
import { SpsClient, upgradeOutcomeUnknown, type SpsClientOptions } from '../../lambdas/shared/sps/client';
import type { LogPort } from '../../lambdas/shared/ports';
import {
  SpsApiError,
  SpsConnectionError,
  SpsInvalidResponseError,
  SpsRequestTimeoutError,
} from '../../lambdas/shared/errors';
import { MemorySessionStore } from '../../lambdas/shared/sps/session';
import { USER_AGENT } from '../../lambdas/shared/version';
import { fixture } from '../helpers/fixtures';

const ORIGIN = 'https://sps.test';
const PASSWORD = 'pässwörd-Sëcret-42';
const USERNAME = 'jürgen';
const SESSION = 'a1f71d030e657634730b9e887cb59a5e56162860';
const SESSION_2 = 'b2f71d030e657634730b9e887cb59a5e56162861';
const BASIC = `Basic ${Buffer.from(`${USERNAME}:${PASSWORD}`, 'utf8').toString('base64')}`;

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string | string[]> } | Error;

/** A scripted appliance: answers each (method, path) from a queue and records every request. */
function scripted() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const seen: Seen[] = [];
  const pool = agent.get(ORIGIN);
  const on = (method: string, path: string, ...replies: Reply[]) => {
    for (const r of replies) {
      const interceptor = pool.intercept({ method, path });
      if (r instanceof Error) {
        interceptor.replyWithError(r);
        continue;
      }
      interceptor.reply((opts) => {
        seen.push({
          method: opts.method,
          path: opts.path,
          headers: normalizeHeaders(opts.headers),
          body: typeof opts.body === 'string' ? opts.body : undefined,
        });
        const data = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
        return {
          statusCode: r.status,
          data,
          responseOptions: { headers: { 'content-type': 'application/json', ...r.headers } },
        };
      });
    }
  };
  return { agent, seen, on };
}

function normalizeHeaders(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(h)) {
    for (let i = 0; i < h.length; i += 2) out[String(h[i]).toLowerCase()] = String(h[i + 1]);
  } else if (h && typeof h === 'object') {
    for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = String(v);
  }
  return out;
}

const loginOk = (session = SESSION): Reply => ({
  status: 200,
  body: { meta: { href: '/api/authentication', parent: '/api' } },
  // An expiry in the past: appliance clocks drift, the client must not care.
  headers: { 'set-cookie': `session_id=${session}; expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly` },
});
const unauthenticated: Reply = {
  status: 401,
  body: { error: { type: 'Unauthenticated', message: 'Authentication is required', details: { path: '/api/info' } } },
};

function collectingLogger() {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, attrs?: Record<string, unknown>): void => {
      lines.push(`${level} ${message} ${JSON.stringify(attrs ?? {})}`);
    };
  const logger: LogPort = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
  return { lines, logger };
}

function makeClient(agent: MockAgent, extra: Partial<SpsClientOptions> = {}) {
  return new SpsClient({
    endpoint: `${ORIGIN}/`,
    credentials: { username: USERNAME, password: PASSWORD },
    dispatcher: agent,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...extra,
  });
}

describe('SpsClient login and sessions', () => {
  it('logs in with UTF-8 Basic credentials and sends the session as a cookie, ignoring its expiry', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/authentication', loginOk());
    on('GET', '/api/info', { status: 200, body: fixture('info-authenticated.json') });
    const sessions = new MemorySessionStore();
    const info = await makeClient(agent, { sessions }).getInfo();

    expect(info.firmwareVersion).toBe('5.7.0');
    expect(seen[0]!.headers.authorization).toBe(BASIC);
    expect(seen[0]!.headers.cookie).toBeUndefined();
    expect(seen[1]!.headers.cookie).toBe(`session_id=${SESSION}`);
    expect(seen[1]!.headers.authorization).toBeUndefined();
    await expect(sessions.load()).resolves.toBe(SESSION);
  });

  it('passes login_method and sends a non-browser User-Agent and Accept on every request', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/authentication?login_method=local', loginOk());
    on('GET', '/api/firmware', { status: 200, body: fixture('firmware.json') });
    const client = makeClient(agent, { credentials: { username: USERNAME, password: PASSWORD, loginMethod: 'local' } });
    await expect(client.listFirmwareEndpoints()).resolves.toEqual(['fetch', 'slots', 'test', 'upgrade']);
    for (const s of seen) {
      expect(s.headers['user-agent']).toBe(USER_AGENT);
      expect(s.headers['user-agent']).not.toMatch(/Mozilla/);
      expect(s.headers.accept).toBe('application/json');
    }
  });

  it('reuses a stored session without logging in', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/info', { status: 200, body: fixture('info-authenticated.json') });
    await makeClient(agent, { sessions: new MemorySessionStore(SESSION) }).getInfo();
    expect(seen.map((s) => s.path)).toEqual(['/api/info']);
    expect(seen[0]!.headers.cookie).toBe(`session_id=${SESSION}`);
  });

  it('on 401 logs in again exactly once, repeats the call and stores the new session', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/info', unauthenticated, { status: 200, body: fixture('info-authenticated.json') });
    on('GET', '/api/authentication', loginOk(SESSION_2));
    const sessions = new MemorySessionStore(SESSION);
    await makeClient(agent, { sessions }).getInfo();
    expect(seen.map((s) => s.path)).toEqual(['/api/info', '/api/authentication', '/api/info']);
    expect(seen[2]!.headers.cookie).toBe(`session_id=${SESSION_2}`);
    await expect(sessions.load()).resolves.toBe(SESSION_2);
  });

  it('repeats a 401-rejected POST once after re-login (SPS rejected it before doing anything)', async () => {
    const { agent, seen, on } = scripted();
    on('POST', '/api/firmware/test', unauthenticated, { status: 200, body: fixture('firmware-test-passed.json') });
    on('GET', '/api/authentication', loginOk(SESSION_2));
    const result = await makeClient(agent, { sessions: new MemorySessionStore(SESSION) }).testFirmware('1');
    expect(result.testSummary).toBe('HA check started\nHA check finished');
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(2);
  });

  it('takes the anonymous /api/info view for a lost session: logs in once and reads again (a reboot ends every session)', async () => {
    const { agent, seen, on } = scripted();
    on(
      'GET',
      '/api/info',
      { status: 200, body: fixture('info-anonymous.json') },
      { status: 200, body: fixture('info-authenticated.json') },
    );
    on('GET', '/api/authentication', loginOk(SESSION_2));
    const sessions = new MemorySessionStore(SESSION);
    const info = await makeClient(agent, { sessions }).getInfo();
    expect(info.firmwareVersion).toBe('5.7.0');
    expect(seen.map((s) => s.path)).toEqual(['/api/info', '/api/authentication', '/api/info']);
    expect(seen[2]!.headers.cookie).toBe(`session_id=${SESSION_2}`);
    await expect(sessions.load()).resolves.toBe(SESSION_2);
  });

  it('reports a version withheld even after a fresh login as missing, never as a version', async () => {
    const { agent, seen, on } = scripted();
    on(
      'GET',
      '/api/info',
      { status: 200, body: fixture('info-anonymous.json') },
      { status: 200, body: fixture('info-anonymous.json') },
    );
    on('GET', '/api/authentication', loginOk(SESSION_2));
    const info = await makeClient(agent, { sessions: new MemorySessionStore(SESSION) }).getInfo();
    expect(info.firmwareVersion).toBeUndefined();
    expect(seen.filter((s) => s.path === '/api/authentication')).toHaveLength(1);
  });

  it('fails with Sps.Unauthenticated when the call is refused again after the re-login', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/info', unauthenticated, unauthenticated);
    on('GET', '/api/authentication', loginOk(SESSION_2));
    const err = await makeClient(agent, { sessions: new MemorySessionStore(SESSION) })
      .getInfo()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'Sps.Unauthenticated', status: 401, type: 'Unauthenticated' });
    expect(seen.filter((s) => s.path === '/api/authentication')).toHaveLength(1);
  });

  it('shares one re-login between concurrent calls that all got 401', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/info', unauthenticated, unauthenticated, unauthenticated);
    on('GET', '/api/authentication', loginOk(SESSION_2));
    on(
      'GET',
      '/api/info',
      ...Array.from({ length: 3 }, () => ({ status: 200, body: fixture('info-authenticated.json') })),
    );
    const client = makeClient(agent, { sessions: new MemorySessionStore(SESSION) });
    await Promise.all([client.getInfo(), client.getInfo(), client.getInfo()]);
    expect(seen.filter((s) => s.path === '/api/authentication')).toHaveLength(1);
    expect(seen.filter((s) => s.path === '/api/info' && s.headers.cookie === `session_id=${SESSION_2}`)).toHaveLength(
      3,
    );
  });

  it('maps a refused login to Sps.AuthenticationFailed', async () => {
    const { agent, on } = scripted();
    on('GET', '/api/authentication', { ...unauthenticated, headers: { 'www-authenticate': 'Basic realm="SPS"' } });
    await expect(makeClient(agent).getInfo()).rejects.toMatchObject({
      name: 'Sps.AuthenticationFailed',
      message: expect.stringContaining('refused the login'),
    });
  });

  it('fails clearly when the login answer sets no session_id cookie', async () => {
    const { agent, on } = scripted();
    on('GET', '/api/authentication', { status: 200, body: { meta: {} } });
    await expect(makeClient(agent).getInfo()).rejects.toMatchObject({
      name: 'Sps.AuthenticationFailed',
      message: expect.stringContaining('no session_id cookie'),
    });
  });
});

describe('SpsClient operations', () => {
  const withSession = (agent: MockAgent) => makeClient(agent, { sessions: new MemorySessionStore(SESSION) });

  it('lists slots with string ids, empty slots, current and after-reboot', async () => {
    const { agent, on } = scripted();
    on('GET', '/api/firmware/slots', { status: 200, body: fixture('firmware-slots.json') });
    const slots = await withSession(agent).listFirmwareSlots();
    expect(slots.slots.map((s) => s.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(slots.slots.filter((s) => s.empty).map((s) => s.id)).toEqual(['3', '5']);
    expect(slots.current).toMatchObject({ id: '1', version: '6.5.0' });
    expect(slots.afterReboot).toMatchObject({ id: '2', version: '6.6.0' });
    expect(slots.emptyCount).toBe(2);
  });

  it('reads one slot and deletes a slot', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/firmware/slots/4', { status: 200, body: { key: '4', body: { version: 670, current: false } } });
    on('DELETE', '/api/firmware/slots/4', { status: 200, body: {} });
    const client = withSession(agent);
    await expect(client.getFirmwareSlot('4')).resolves.toMatchObject({ id: '4', version: '670', empty: false });
    await client.deleteFirmwareSlot('4');
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /api/firmware/slots/4',
      'DELETE /api/firmware/slots/4',
    ]);
  });

  it('starts, lists, reads and cancels firmware fetches', async () => {
    const { agent, seen, on } = scripted();
    on('POST', '/api/firmware/fetch', { status: 202, body: fixture('firmware-fetch-start.json') });
    on('GET', '/api/firmware/fetch', { status: 200, body: fixture('firmware-fetch-list.json') });
    on('GET', '/api/firmware/fetch/8f6f7b0f-bba1-4d86-babb-54868106d2e9', {
      status: 200,
      body: fixture('firmware-fetch-one.json'),
    });
    on('DELETE', '/api/firmware/fetch/42dee328-9a26-4337-a1fd-3ee6cea3e815', { status: 200 });
    const client = withSession(agent);
    const sha = 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80';

    await expect(client.startFirmwareFetch('https://example.com/sps.iso', sha)).resolves.toBe(
      'XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX',
    );
    const post = seen[0]!;
    expect(JSON.parse(post.body!)).toEqual({ url: 'https://example.com/sps.iso', checksum: { sha256: sha } });
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['content-length']).toBe(String(Buffer.byteLength(post.body!)));

    const list = await client.listFirmwareFetches();
    expect(list.map((f) => f.status)).toEqual(['in-progress', 'failed', 'finished', 'queued']);
    expect(list[1]!.error).toContain('Name or service not known');
    const one = await client.getFirmwareFetch('8f6f7b0f-bba1-4d86-babb-54868106d2e9');
    expect(one).toMatchObject({ status: 'finished', slotId: '2', bytesTotal: 1594798080 });
    await client.deleteFirmwareFetch('42dee328-9a26-4337-a1fd-3ee6cea3e815');
  });

  it('sends slot ids as numbers to test and upgrade, with the upgrade message', async () => {
    const { agent, seen, on } = scripted();
    on('POST', '/api/firmware/test', { status: 200, body: fixture('firmware-test-passed.json') });
    on('POST', '/api/firmware/upgrade', { status: 200, body: fixture('firmware-upgrade-accepted.json') });
    const client = withSession(agent);
    await expect(client.testFirmware('1')).resolves.toEqual({
      slotId: '1',
      testSummary: 'HA check started\nHA check finished',
    });
    await expect(client.upgradeFirmware('1', 'Upgrade to 8.0.1')).resolves.toMatchObject({ slotId: '1' });
    expect(JSON.parse(seen[0]!.body!)).toEqual({ slot_id: 1 });
    expect(JSON.parse(seen[1]!.body!)).toEqual({ slot_id: 1, message: 'Upgrade to 8.0.1' });
  });

  it('creates a support bundle with Content-Length: 0 and reads both answer shapes', async () => {
    const { agent, seen, on } = scripted();
    on(
      'POST',
      '/api/troubleshooting/support-bundle',
      { status: 201, body: fixture('support-bundle-create.json') },
      { status: 201, body: { key: 'top-level-key', body: { status: 'queued' } } },
    );
    const client = withSession(agent);
    await expect(client.createSupportBundle()).resolves.toBe('XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX');
    await expect(client.createSupportBundle()).resolves.toBe('top-level-key');
    expect(seen[0]!.headers['content-length']).toBe('0');
    expect(seen[0]!.headers['content-type']).toBeUndefined();
    expect(seen[0]!.body).toBeUndefined();
  });

  it('lists, reads and deletes support bundles', async () => {
    const { agent, seen, on } = scripted();
    const key = '44444444-4444-4444-4444-444444444444';
    on('GET', '/api/troubleshooting/support-bundle', { status: 200, body: fixture('support-bundle-list.json') });
    on('GET', `/api/troubleshooting/support-bundle/${key}`, {
      status: 200,
      body: (fixture('support-bundle-list.json') as { items: unknown[] }).items[2],
    });
    on('DELETE', `/api/troubleshooting/support-bundle/${key}`, { status: 200 });
    const client = withSession(agent);
    const list = await client.listSupportBundles();
    expect(list.map((b) => b.status)).toEqual(['in-progress', 'failed', 'finished', 'queued']);
    expect(list[1]!.error).toBe('Timeout expired while waiting for creation of support-bundle.');
    await expect(client.getSupportBundle(key)).resolves.toMatchObject({ fileName: `${key}-debug_info.zip` });
    await client.deleteSupportBundle(key);
    expect(seen.at(-1)!.method).toBe('DELETE');
  });

  it('streams a bundle download with its headers', async () => {
    const { agent, seen, on } = scripted();
    const content = Buffer.from('PK\u0003\u0004 not really a zip');
    on('GET', '/api/troubleshooting/support-bundle/k1/download', {
      status: 200,
      body: content.toString('latin1'),
      headers: { 'content-type': 'application/zip', 'content-length': String(content.length) },
    });
    const download = await withSession(agent).downloadSupportBundle('k1');
    expect(download.contentType).toBe('application/zip');
    expect(download.contentLength).toBe(content.length);
    const chunks: Buffer[] = [];
    for await (const c of download.body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString('latin1')).toBe(content.toString('latin1'));
    expect(seen[0]!.headers.accept).toContain('application/octet-stream');
  });

  it('maps a download of an unfinished bundle to Sps.NotFound with the envelope details', async () => {
    const { agent, on } = scripted();
    on('GET', '/api/troubleshooting/support-bundle/k1/download', {
      status: 404,
      body: fixture('error-support-bundle-download-not-found.json'),
    });
    await expect(withSession(agent).downloadSupportBundle('k1')).rejects.toMatchObject({
      name: 'Sps.NotFound',
      type: 'ResourceNotFound',
      details: { mount_point: '/troubleshooting/support-bundle' },
    });
  });

  it('reads integrated products', async () => {
    const { agent, on } = scripted();
    const sample = fixture('integrated-products-spp.json') as {
      items: Array<{ name: string; activated: boolean; link: string }>;
    };
    on('GET', '/api/integrated_products', { status: 200, body: sample });
    await expect(withSession(agent).getIntegratedProducts()).resolves.toEqual(sample.items);
  });

  it('escapes keys so they cannot change the request path', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/firmware/fetch/..%2F..%2Finfo', { status: 404, body: fixture('error-resource-not-found.json') });
    await expect(withSession(agent).getFirmwareFetch('../../info')).rejects.toMatchObject({ name: 'Sps.NotFound' });
    expect(seen[0]!.path).toBe('/api/firmware/fetch/..%2F..%2Finfo');
  });
});

describe('SpsClient errors', () => {
  const withSession = (agent: MockAgent, extra: Partial<SpsClientOptions> = {}) =>
    makeClient(agent, { sessions: new MemorySessionStore(SESSION), ...extra });

  it('maps FirmwareTestFailed to Sps.PrecheckFailed keeping test_summary and exit_code', async () => {
    const { agent, on } = scripted();
    on('POST', '/api/firmware/test', { status: 400, body: fixture('error-firmware-test-failed.json') });
    const err = await withSession(agent)
      .testFirmware('2')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: 'Sps.PrecheckFailed',
      type: 'FirmwareTestFailed',
      testSummary: 'HA check started\nHA check failed',
      exitCode: 1,
      details: { exit_code: 1, test_summary: 'HA check started\nHA check failed' },
    });
    expect((err as Error).message).toContain('HA check failed');
  });

  it('maps ResourceNotFound for an empty slot and IncompleteRequestBodyError', async () => {
    const { agent, on } = scripted();
    on(
      'POST',
      '/api/firmware/test',
      { status: 404, body: fixture('error-resource-not-found.json') },
      { status: 400, body: fixture('error-incomplete-request-body.json') },
    );
    const client = withSession(agent);
    await expect(client.testFirmware('3')).rejects.toMatchObject({
      name: 'Sps.NotFound',
      message: expect.stringContaining('Resource was not found'),
      details: { resource: '3' },
    });
    await expect(client.testFirmware('1')).rejects.toMatchObject({
      name: 'Sps.IncompleteRequestBody',
      missingPaths: ['slot_id'],
    });
  });

  it('keeps type, message and details of any other envelope', async () => {
    const { agent, on } = scripted();
    on('DELETE', '/api/firmware/slots/1', {
      status: 400,
      body: {
        error: {
          type: 'SemanticError',
          message: 'Deleting the current firmware is not allowed',
          details: { slot: '1' },
        },
      },
    });
    await expect(withSession(agent).deleteFirmwareSlot('1')).rejects.toMatchObject({
      name: 'Sps.ApiError',
      status: 400,
      type: 'SemanticError',
      details: { slot: '1' },
      message: expect.stringContaining('Deleting the current firmware is not allowed'),
    });
  });

  it('handles an HTML 503 without crashing, and a 403', async () => {
    const { agent, on } = scripted();
    const html =
      '<html><head><title>503</title><style>b{}</style></head><body><h1>Service Unavailable</h1></body></html>';
    on('POST', '/api/firmware/upgrade', { status: 503, body: html, headers: { 'content-type': 'text/html' } });
    on('POST', '/api/troubleshooting/support-bundle', {
      status: 403,
      body: { error: { type: 'Unauthorized', message: 'X-Token header is missing' } },
    });
    const client = withSession(agent);
    await expect(client.upgradeFirmware('2', 'm')).rejects.toMatchObject({
      name: 'Sps.ServerError',
      status: 503,
      type: undefined,
      message: expect.stringContaining('503 Service Unavailable'),
    });
    await expect(client.createSupportBundle()).rejects.toMatchObject({ name: 'Sps.Forbidden', type: 'Unauthorized' });
  });

  it('rejects 2xx bodies that do not match the schema, naming the field', async () => {
    const { agent, on } = scripted();
    on('GET', '/api/firmware/fetch/k', { status: 200, body: { key: 'k', body: { status: 'exploded', url: 'x' } } });
    on('GET', '/api/firmware/slots', {
      status: 200,
      body: 'definitely not json',
      headers: { 'content-type': 'text/plain' },
    });
    const client = withSession(agent);
    await expect(client.getFirmwareFetch('k')).rejects.toMatchObject({
      name: 'Sps.InvalidResponse',
      message: expect.stringContaining('body.status'),
    });
    await expect(client.listFirmwareSlots()).rejects.toMatchObject({ name: 'Sps.InvalidResponse' });
  });

  it('reads the upgrade answer leniently: any JSON means accepted, its fields when present', async () => {
    const { agent, on } = scripted();
    on(
      'POST',
      '/api/firmware/upgrade',
      { status: 200, body: fixture('firmware-upgrade-accepted.json') },
      { status: 200, body: { body: null } },
      { status: 202, body: '' },
    );
    const client = withSession(agent);
    await expect(client.upgradeFirmware('1', 'm')).resolves.toEqual({
      slotId: '1',
      testSummary: 'HA check started\nHA check finished',
    });
    await expect(client.upgradeFirmware('1', 'm')).resolves.toEqual({ slotId: null, testSummary: null });
    await expect(client.upgradeFirmware('1', 'm')).resolves.toEqual({ slotId: null, testSummary: null });
  });

  it("lists everyone's fetches and bundles without failing on another's unknown status or odd fields", async () => {
    const { agent, on } = scripted();
    const list = fixture('firmware-fetch-list.json') as { items: unknown[] };
    on('GET', '/api/firmware/fetch', {
      status: 200,
      body: {
        ...list,
        items: [
          ...list.items,
          { key: 'odd-1', body: { status: 'verifying-signature', url: 'https://x/sps.iso' } },
          { key: 'odd-2', body: { status: 'queued', url: null, bytes_total: null, slot_id: null } },
          { key: 'odd-3', body: { status: 'queued', bytes_downloaded: 'lots' } },
        ],
      },
    });
    on('GET', '/api/troubleshooting/support-bundle', {
      status: 200,
      body: { items: [{ key: 'b1', body: { status: 'archiving', error: null } }, { key: 'b2' }] },
    });
    const client = withSession(agent);
    const fetches = await client.listFirmwareFetches();
    expect(fetches.map((f) => `${f.key}:${f.status}`)).toEqual([
      '42dee328-9a26-4337-a1fd-3ee6cea3e815:in-progress',
      '023bc2b4-0efb-4eaa-a301-b29f8c395f8c:failed',
      '8f6f7b0f-bba1-4d86-babb-54868106d2e9:finished',
      '6bf3113c-ad66-4cb3-9827-77fcbe1b6853:queued',
      'odd-1:verifying-signature',
      'odd-2:queued',
    ]);
    await expect(client.listSupportBundles()).resolves.toEqual([
      expect.objectContaining({ key: 'b1', status: 'archiving' }),
    ]);
  });

  it('reads null and missing optional slot fields alike', async () => {
    const { agent, on } = scripted();
    on('GET', '/api/firmware/slots', {
      status: 200,
      body: {
        items: [
          { key: '1', body: { version: '7.5.1', current: true, after_reboot: null, upgrade_notes: null } },
          { key: '2', body: { version: null, current: null } },
        ],
        meta: {},
      },
    });
    const slots = await withSession(agent).listFirmwareSlots();
    expect(slots.slots).toEqual([
      { id: '1', empty: false, version: '7.5.1', current: true, afterReboot: false, upgradeNotes: null },
      { id: '2', empty: true, version: null, current: false, afterReboot: false, upgradeNotes: null },
    ]);
  });

  it('rejects a non-http endpoint before any request', () => {
    const { agent } = scripted();
    expect(() => makeClient(agent, { endpoint: 'ftp://sps.test' })).toThrow(/http\(s\) URL/);
  });
});

describe('SpsClient retries', () => {
  const withSession = (agent: MockAgent) => makeClient(agent, { sessions: new MemorySessionStore(SESSION) });
  const reset = () => Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
  const html503: Reply = {
    status: 503,
    body: '<h1>Service Unavailable</h1>',
    headers: { 'content-type': 'text/html' },
  };

  it('retries GET on 5xx and 429 and succeeds', async () => {
    const { agent, seen, on } = scripted();
    on(
      'GET',
      '/api/firmware/slots',
      html503,
      { status: 429, body: '' },
      { status: 200, body: fixture('firmware-slots.json') },
    );
    await expect(withSession(agent).listFirmwareSlots()).resolves.toMatchObject({ emptyCount: 2 });
    expect(seen).toHaveLength(3);
  });

  it('gives up after the bounded number of attempts with the last typed error', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/info', html503, html503, html503);
    await expect(withSession(agent).getInfo()).rejects.toMatchObject({ name: 'Sps.ServerError', status: 503 });
    expect(seen).toHaveLength(3);
  });

  it('retries DELETE on a connection reset', async () => {
    const { agent, seen, on } = scripted();
    on('DELETE', '/api/troubleshooting/support-bundle/k', reset(), { status: 200 });
    await withSession(agent).deleteSupportBundle('k');
    expect(seen.filter((s) => s.method === 'DELETE')).toHaveLength(1);
  });

  it.each([
    ['fetch', (c: SpsClient) => c.startFirmwareFetch('https://x/sps.iso', 'a'.repeat(64)), '/api/firmware/fetch'],
    ['test', (c: SpsClient) => c.testFirmware('2'), '/api/firmware/test'],
    ['upgrade', (c: SpsClient) => c.upgradeFirmware('2', 'm'), '/api/firmware/upgrade'],
    ['bundle create', (c: SpsClient) => c.createSupportBundle(), '/api/troubleshooting/support-bundle'],
  ])('never repeats a POST (%s) after a 5xx or a reset', async (_name, call, path) => {
    const { agent, seen, on } = scripted();
    on('POST', path, html503);
    await expect(call(withSession(agent))).rejects.toMatchObject({ name: 'Sps.ServerError' });
    expect(seen).toHaveLength(1);

    const second = scripted();
    second.on('POST', path, reset(), { status: 200, body: {} });
    await expect(call(withSession(second.agent))).rejects.toMatchObject({
      name: 'Sps.ConnectionError',
      code: 'UND_ERR_SOCKET',
    });
    expect(second.agent.pendingInterceptors()).toHaveLength(1); // the second answer was never asked for
  });

  it('does not retry 4xx answers', async () => {
    const { agent, seen, on } = scripted();
    on('GET', '/api/firmware/slots/9', { status: 404, body: fixture('error-resource-not-found.json') });
    await expect(withSession(agent).getFirmwareSlot('9')).rejects.toMatchObject({ name: 'Sps.NotFound' });
    expect(seen).toHaveLength(1);
  });

  it('maps connection refused, timeouts and TLS failures to typed errors without retrying them', async () => {
    const cases: Array<[Error, Record<string, unknown>]> = [
      [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { name: 'Sps.ConnectionError' }],
      [
        Object.assign(new Error('x'), { code: 'UND_ERR_CONNECT_TIMEOUT' }),
        { name: 'Sps.RequestTimeout', phase: 'connect' },
      ],
      [
        Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }),
        { name: 'Sps.RequestTimeout', phase: 'headers' },
      ],
      [Object.assign(new Error('x'), { code: 'UND_ERR_BODY_TIMEOUT' }), { name: 'Sps.RequestTimeout', phase: 'body' }],
      [
        Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
        { name: 'Sps.TlsError', reason: 'untrusted-issuer', message: expect.stringContaining('caCertificate') },
      ],
      [
        Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
        }),
        { name: 'Sps.TlsError', reason: 'hostname-mismatch' },
      ],
    ];
    for (const [error, expected] of cases) {
      const { agent, on } = scripted();
      on('GET', '/api/info', error, { status: 200, body: fixture('info-authenticated.json') });
      await expect(withSession(agent).getInfo()).rejects.toMatchObject(expected);
      expect(agent.pendingInterceptors()).toHaveLength(1);
    }
  });
});

describe('SpsClient redaction', () => {
  it('never writes the password, the Authorization header or a session id into errors or logs', async () => {
    const { lines, logger } = collectingLogger();
    const messages: string[] = [];
    const capture = async (p: Promise<unknown>) => {
      const err = await p.catch((e: unknown) => e);
      if (err instanceof Error) messages.push(`${err.name} ${err.message} ${JSON.stringify(err)} ${String(err.stack)}`);
    };
    const { agent, on } = scripted();
    const client = makeClient(agent, { logger, sessions: new MemorySessionStore(SESSION) });
    on('GET', '/api/info', unauthenticated);
    on('GET', '/api/authentication', unauthenticated);
    await capture(client.getInfo());
    on('GET', '/api/authentication', loginOk(SESSION_2));
    on('GET', '/api/firmware/slots', { status: 503, body: '' }, { status: 503, body: '' }, { status: 503, body: '' });
    await capture(client.listFirmwareSlots());
    on('POST', '/api/firmware/test', { status: 400, body: fixture('error-firmware-test-failed.json') });
    await capture(client.testFirmware('1'));
    on('GET', '/api/info', Object.assign(new Error('boom'), { code: 'ECONNRESET' }), unauthenticated);
    on('GET', '/api/authentication', loginOk(SESSION_2));
    on('GET', '/api/info', unauthenticated);
    await capture(client.getInfo());

    expect(messages.length).toBeGreaterThanOrEqual(4);
    expect(lines.length).toBeGreaterThan(0);
    const everything = [...messages, ...lines].join('\n');
    for (const secret of [PASSWORD, BASIC, BASIC.slice(6), SESSION, SESSION_2]) {
      expect(everything).not.toContain(secret);
    }
  });

  it('warns when TLS verification is turned off', () => {
    const { lines, logger } = collectingLogger();
    const { agent } = scripted();
    makeClient(agent, { logger, insecureSkipTlsVerify: true });
    expect(lines.some((l) => l.startsWith('warn') && l.includes('verification is OFF'))).toBe(true);
  });
});

describe('after the upgrade POST', () => {
  const api = (status: number, envelope?: { type: string }) =>
    new SpsApiError({ status, method: 'POST', path: '/api/firmware/upgrade', envelope });
  it.each([
    ['the connection reset after the request went out', true, new SpsConnectionError('reset', 'ECONNRESET')],
    ['no answer in time', true, new SpsRequestTimeoutError('headers', 'no headers')],
    ['a gateway 502 HTML page', true, api(502)],
    ['a 503 without an SPS envelope', true, api(503)],
    ['a 504', true, api(504)],
    ['a 2xx body that is not JSON', true, new SpsInvalidResponseError('not JSON')],
    ['FirmwareTestFailed', false, api(400, { type: 'FirmwareTestFailed' })],
    ['ResourceNotFound (an empty slot)', false, api(404, { type: 'ResourceNotFound' })],
    ['a 500 with an SPS envelope', false, api(500, { type: 'InternalError' })],
    ['a 403 HTML page (no privilege)', false, api(403)],
    ['the connection was refused (never sent)', false, new SpsConnectionError('refused', 'ECONNREFUSED')],
    ['the connect timed out (never sent)', false, new SpsRequestTimeoutError('connect', 'connect')],
  ])('when the answer is %s, the upgrade may be under way: %p', (_what, unknown, err) => {
    expect(upgradeOutcomeUnknown(err)).toBe(unknown);
  });
});
