import { Agent } from 'undici';
import { startSimulator, type ApplianceOptions, type Simulator } from '../../local/simulator';
import { Appliance } from '../../local/simulator/appliance';
import { STARLING_WARNINGS } from '../../local/simulator/info';
import { call as callAs, login as loginAs } from './helpers';

/*
 * What the preflight reads (the vendor's upgrade checklist over REST, GETs only): health, system
 * backup, its encryption, the cluster interface, plugins and their instances and integrity,
 * /api/info's config_hash and roles, the Starling warnings; every preflight scenario, and the
 * error answers (401, 403, 404, 400) in the SPS envelope.
 */

const HEALTH = '/api/health_status';
const BACKUP = '/api/configuration/management/system_backup';
const ENCRYPTION = '/api/configuration/management/exported_configuration_encryption';
const CLUSTER = '/api/configuration/local_services/cluster';
const AA_PLUGINS = '/api/configuration/plugins/aa';
const INSTANCES = '/api/configuration/policies/aa_plugin_instances';
const URL_801 = 'https://downloads.example.internal/sps-8.0.1.iso';

let sim: Simulator | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await agent?.close();
  await sim?.close();
  agent = undefined;
  sim = undefined;
});

/** One appliance named `sps`, logged in: `get(path)` answers status and JSON. */
async function setup(options: Partial<ApplianceOptions> = {}) {
  const s = await startSimulator({ appliances: [{ name: 'sps', ...options }] });
  const a = new Agent({ connect: { ca: s.caPem } });
  [sim, agent] = [s, a];
  const cookie = await loginAs(s, a);
  const get = async (path: string, withSession = true) => {
    const res = await callAs(s, a, path, withSession ? { headers: { cookie } } : {});
    return { status: res.status, json: res.json() as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  const post = (path: string, body: unknown) =>
    callAs(s, a, path, { method: 'POST', headers: { cookie }, body: JSON.stringify(body) });
  return { appliance: s.appliance('sps'), get, post };
}

const integrityPath = (key: string, type = 'aa', ops = ['zip_checksum', 'zip_content', 'unregistered']) =>
  `/api/plugin/integrity?${new URLSearchParams([['key', key], ['plugin_type', type], ...ops.map((op): [string, string] => ['ops', op])])}`;

/** The one AA plugin's key and its single-plugin answer. */
async function onlyAaPlugin(get: Awaited<ReturnType<typeof setup>>['get']) {
  const list = await get(AA_PLUGINS);
  expect(list.json.items).toHaveLength(1);
  const key = list.json.items[0].key as string;
  return { key, plugin: (await get(`${AA_PLUGINS}/${key}`)).json };
}

describe('the happy default', () => {
  it('is healthy: 40 % of the disk used, integrity OK, RAID OK, no sessions', async () => {
    const { get } = await setup();
    const res = await get(HEALTH);
    expect(res.status).toBe(200);
    expect(Object.keys(res.json)).toEqual(['health_status']);
    const h = res.json.health_status;
    expect(h.firmware).toEqual({
      tainted_files: { boot: 0, core: 0, ha_other: 0 },
      integrity: { boot: 'OK', core: 'OK' },
    });
    expect(h.raid.status).toEqual({ detailed_status: 'OK', operation_progress: 0, status: 'OK' });
    expect(Object.values(h.raid.disks)).toEqual(Array(4).fill({ status: 'OK' }));
    expect(h.sessions).toEqual({ http: 0, ica: 0, mssql: 0, rdp: 0, ssh: 0, telnet: 0, vnc: 0 });
    expect(h.sessions_total).toBe(0);
    const disk = h.system_details.disk;
    expect(disk.percent).toBe(40);
    expect(h.disk).toBe(40);
    expect(disk.free).toBe(disk.total - Math.round(disk.total * 0.4));
  });

  it('has a backup policy, encrypted backups, and the cluster interface disabled', async () => {
    const { get } = await setup();
    expect((await get(BACKUP)).json.body.backup_policy).toMatch(/^[0-9a-f]{22}$/);
    const encryption = (await get(ENCRYPTION)).json;
    expect(encryption.body.encryption).toMatchObject({
      enabled: true,
      gpg_public_key: { fingerprint: expect.any(String) },
    });
    expect(encryption.meta).toMatchObject({ href: ENCRYPTION, remaining_seconds: 600 });
    expect((await get(CLUSTER)).json.body).toEqual({ enabled: false, listen_address: null });
  });

  it('has one healthy AA plugin without version bounds, in no instance', async () => {
    const { get } = await setup();
    const { key, plugin } = await onlyAaPlugin(get);
    expect(plugin).toMatchObject({
      key,
      body: {
        name: 'AAPluginExample',
        scb_min_version: '',
        scb_max_version: '',
        sha256sum: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
      meta: { href: `${AA_PLUGINS}/${key}`, parent: AA_PLUGINS, next: null, previous: null },
    });
    expect((await get(INSTANCES)).json.items).toEqual([]);
    for (const type of ['credentialstore', 'signingca', 'configuration_sync', 'ticketing']) {
      expect((await get(`/api/configuration/plugins/${type}`)).json.items).toEqual([]);
    }
    const integrity = await get(integrityPath(key));
    expect(integrity.json).toEqual({
      body: {
        zip_checksum: { verdict: 'passed', reason: 'Plugin .zip checksums match' },
        zip_content: {
          verdict: 'passed',
          reason: 'The plugin runtime files are the same since you have uploaded the plugin .zip',
        },
        unregistered: {
          verdict: 'unavailable',
          reason: 'Cannot find checker. Make sure that you use an existing checker: unregistered',
        },
      },
    });
  });

  it('is standalone: no roles, a 32-hex config_hash, no Starling warning', async () => {
    const { get } = await setup();
    const info = (await get('/api/info')).json.body;
    expect(info.roles).toEqual([]);
    expect(info.config_hash).toMatch(/^[0-9a-f]{32}$/);
    expect((await get('/api/integrated_products')).json).toEqual({ items: [] });
  });
});

describe('the preflight scenarios', () => {
  it('low-disk: 95 % of the disk used', async () => {
    const { get } = await setup({ scenario: 'low-disk' });
    const h = (await get(HEALTH)).json.health_status;
    expect(h.system_details.disk.percent).toBe(95);
    expect(h.disk).toBe(95);
    expect(h.system_details.disk.free).toBe(
      h.system_details.disk.total - Math.round(h.system_details.disk.total * 0.95),
    );
  });

  it('firmware-corrupted: the core is CORRUPTED (one tainted file), the boot OK', async () => {
    const { get } = await setup({ scenario: 'firmware-corrupted' });
    expect((await get(HEALTH)).json.health_status.firmware).toEqual({
      tainted_files: { boot: 0, core: 1, ha_other: 0 },
      integrity: { boot: 'OK', core: 'CORRUPTED' },
    });
  });

  it('raid-degraded: the array is not OK, one disk failed', async () => {
    const { get } = await setup({ scenario: 'raid-degraded' });
    const raid = (await get(HEALTH)).json.health_status.raid;
    expect(raid.status.status).toBe('DEGRADED');
    expect(raid.disks['252:1']).toEqual({ status: 'FAILED' });
  });

  it('an appliance without RAID has no raid key at all', async () => {
    const { get } = await setup({ raid: null });
    const h = (await get(HEALTH)).json.health_status;
    expect(h).not.toHaveProperty('raid');
    expect(h).toHaveProperty('sessions_total', 0);
  });

  it('sessions-active: 3 SSH and 2 RDP sessions, 5 in total', async () => {
    const { get } = await setup({ scenario: 'sessions-active' });
    const h = (await get(HEALTH)).json.health_status;
    expect(h.sessions).toEqual({ http: 0, ica: 0, mssql: 0, rdp: 2, ssh: 3, telnet: 0, vnc: 0 });
    expect(h.sessions_total).toBe(5);
  });

  it.each([
    ['low-disk', 'Storage check failed: 95% of the disk is used'],
    ['firmware-corrupted', 'Firmware integrity check failed: the core firmware has modified files'],
  ] as const)('%s: the precheck (POST /api/firmware/test) fails as well', async (scenario, finding) => {
    const { appliance, post } = await setup({ scenario });
    appliance.startFetch(URL_801, { finished: true });
    const res = await post('/api/firmware/test', { slot_id: 2 });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ error: { type: 'FirmwareTestFailed', details: { exit_code: 1 } } });
    expect((res.json() as { error: { details: { test_summary: string } } }).error.details.test_summary).toContain(
      finding,
    );
  });

  it('no-backup-policy: backup_policy is null', async () => {
    const { get } = await setup({ scenario: 'no-backup-policy' });
    expect((await get(BACKUP)).json.body).toEqual({ backup_policy: null });
  });

  it('backup encryption off: enabled false, no GPG key', async () => {
    const { get } = await setup({ backupEncryption: false });
    expect((await get(ENCRYPTION)).json.body).toEqual({ encryption: { enabled: false, gpg_public_key: null } });
  });

  it('plugin-out-of-range-in-use: an AA plugin allowing SPS up to 7.4 that an instance uses, on 7.5.1', async () => {
    const { appliance, get } = await setup({ scenario: 'plugin-out-of-range-in-use' });
    expect((await get('/api/info')).json.body.firmware_version).toBe('7.5.1');
    const { key, plugin } = await onlyAaPlugin(get);
    expect(plugin.body).toMatchObject({ scb_min_version: '7.0', scb_max_version: '7.4' });
    const instances = (await get(INSTANCES)).json.items;
    expect(instances).toEqual([{ name: expect.any(String), configuration: expect.any(String), plugin: key }]);
    const instanceKey = appliance.state().pluginInstances[0]!.key;
    expect((await get(`${INSTANCES}/${instanceKey}`)).json).toMatchObject({
      key: instanceKey,
      body: { plugin: { key, meta: { href: `${AA_PLUGINS}/${key}` } } },
    });
  });

  it('plugin-out-of-range-unused: the same plugin, in no instance', async () => {
    const { get } = await setup({ scenario: 'plugin-out-of-range-unused' });
    const { plugin } = await onlyAaPlugin(get);
    expect(plugin.body.scb_max_version).toBe('7.4');
    expect((await get(INSTANCES)).json.items).toEqual([]);
  });

  it('plugin-integrity-failed: the zip_content check failed', async () => {
    const { get } = await setup({ scenario: 'plugin-integrity-failed' });
    const { key } = await onlyAaPlugin(get);
    const body = (await get(integrityPath(key))).json.body;
    expect(body.zip_content).toEqual({
      verdict: 'failed',
      reason: 'The plugin runtime files have changed since you have uploaded the plugin .zip',
    });
    expect(body.zip_checksum.verdict).toBe('passed');
  });

  it('starling-warning: the documented "cannot be retrieved" text beside the items', async () => {
    const { get } = await setup({ scenario: 'starling-warning' });
    const res = await get('/api/integrated_products');
    expect(res.json).toEqual({ items: [], warnings: [STARLING_WARNINGS.unavailable] });
    expect(JSON.stringify(res.json)).toContain(
      'Information about the integrated Starling products cannot be retrieved.',
    );
  });

  it('invalid Starling credentials: the documented "credentials … are invalid" text', async () => {
    const { get } = await setup({ starlingWarning: 'invalid-credentials' });
    expect(JSON.stringify((await get('/api/integrated_products')).json)).toContain(
      'The credentials used for accessing Starling are invalid.',
    );
  });

  it('no-health-status: /api/health_status is a 404 NotFound; the rest answers', async () => {
    const { get } = await setup({ scenario: 'no-health-status' });
    const res = await get(HEALTH);
    expect(res.status).toBe(404);
    expect(res.json).toEqual({
      error: { type: 'NotFound', message: 'The requested object does not exist', details: { path: HEALTH } },
      meta: { href: HEALTH, parent: '/api' },
    });
    expect((await get(BACKUP)).status).toBe(200);
  });

  it('no-config-privilege: 403 Unauthorized for everything under /api/configuration, the rest answers', async () => {
    const { get } = await setup({ scenario: 'no-config-privilege' });
    for (const path of [BACKUP, ENCRYPTION, CLUSTER, AA_PLUGINS, INSTANCES, '/api/configuration/network']) {
      const res = await get(path);
      expect(res.status).toBe(403);
      expect(res.json).toMatchObject({ error: { type: 'Unauthorized', details: { path } }, meta: { href: path } });
    }
    expect((await get(HEALTH)).status).toBe(200);
    expect((await get('/api/info')).json.body.config_hash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('cluster-member: a managed host and search minion with the cluster interface enabled', async () => {
    const { get } = await setup({ scenario: 'cluster-member' });
    expect((await get('/api/info')).json.body.roles).toEqual(['managed-host', 'search-minion']);
    expect((await get(CLUSTER)).json.body).toMatchObject({
      enabled: true,
      listen_address: {
        key: expect.any(String),
        meta: { href: expect.stringMatching(/^\/api\/configuration\/network/) },
      },
    });
  });

  it('config-changes: config_hash changes once, after the first precheck answered 200', async () => {
    const { appliance, get, post } = await setup({ scenario: 'config-changes' });
    appliance.startFetch(URL_801, { finished: true });
    const hash = async () => (await get('/api/info')).json.body.config_hash as string;
    const before = await hash();
    expect(await hash()).toBe(before);
    expect((await post('/api/firmware/test', { slot_id: 3 })).status).toBe(404); // an empty slot: no precheck ran
    expect(await hash()).toBe(before);
    expect((await post('/api/firmware/test', { slot_id: 2 })).status).toBe(200);
    const after = await hash();
    expect(after).toMatch(/^[0-9a-f]{32}$/);
    expect(after).not.toBe(before);
    expect((await post('/api/firmware/test', { slot_id: 2 })).status).toBe(200);
    expect(await hash()).toBe(after);
    expect(appliance.state().configHash).toBe(after);
  });
});

describe('options', () => {
  it('changeConfiguration() gives a new config_hash at once; without it the hash stays', async () => {
    const { appliance, get } = await setup();
    const first = (await get('/api/info')).json.body.config_hash;
    expect((await get('/api/info')).json.body.config_hash).toBe(first);
    appliance.changeConfiguration();
    const second = (await get('/api/info')).json.body.config_hash;
    expect(second).toMatch(/^[0-9a-f]{32}$/);
    expect(second).not.toBe(first);
  });

  it('an option given explicitly wins over the scenario', async () => {
    const { get } = await setup({ scenario: 'low-disk', diskUsedPercent: 60 });
    expect((await get(HEALTH)).json.health_status.system_details.disk.percent).toBe(60);
  });

  it('plugins of every type, with their bounds and meta links among siblings', async () => {
    const { get } = await setup({
      plugins: [
        { type: 'aa', name: 'First', scbMinVersion: '7.0', scbMaxVersion: '' },
        { type: 'aa', name: 'Second', version: '3.0', inUse: true },
        { type: 'credentialstore', name: 'Vault' },
      ],
    });
    const list = (await get(AA_PLUGINS)).json;
    const [first, second] = list.items.map((i: { key: string }) => `${AA_PLUGINS}/${i.key}`);
    expect((await get(first)).json).toMatchObject({
      body: { name: 'First', scb_min_version: '7.0', scb_max_version: '' },
      meta: { first, last: second, next: second, previous: null },
    });
    expect((await get(second)).json.meta).toMatchObject({ first, last: second, next: null, previous: first });
    const stores = (await get('/api/configuration/plugins/credentialstore')).json;
    expect(stores.items).toHaveLength(1);
    expect(stores.meta).toMatchObject({ previous: AA_PLUGINS, next: '/api/configuration/plugins/signingca' });
    expect((await get(INSTANCES)).json.items).toEqual([
      { name: 'Second_instance', configuration: expect.any(String), plugin: second.split('/').at(-1) },
    ]);
  });

  it('refuses plugins the appliance could not have: a malformed key, a non-AA plugin in use', () => {
    const now = Date.UTC(2026, 0, 1);
    expect(() => new Appliance({ name: 'x', plugins: [{ type: 'aa', key: 'nope' }] }, now)).toThrow(
      /not 22 lowercase hex digits/,
    );
    expect(() => new Appliance({ name: 'x', plugins: [{ type: 'signingca', inUse: true }] }, now)).toThrow(
      /only AA plugins/,
    );
  });
});

describe('error answers', () => {
  it('401 Unauthenticated on every preflight endpoint without a session', async () => {
    const { get } = await setup();
    const key = '2080160955734bb2a1ddf9';
    for (const path of [
      HEALTH,
      BACKUP,
      ENCRYPTION,
      CLUSTER,
      AA_PLUGINS,
      `${AA_PLUGINS}/${key}`,
      INSTANCES,
      integrityPath(key),
    ]) {
      const res = await get(path, false);
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: { type: 'Unauthenticated', details: { path: path.split('?')[0] } } });
    }
  });

  it('404 NotFound for an unknown plugin, plugin type or instance', async () => {
    const { get } = await setup();
    for (const path of [
      `${AA_PLUGINS}/${'0'.repeat(22)}`,
      '/api/configuration/plugins/nope',
      `${INSTANCES}/${'0'.repeat(22)}`,
    ]) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.json).toMatchObject({ error: { type: 'NotFound', details: { path } }, meta: { href: path } });
    }
  });

  it('integrity: 400 MissingMandatoryParameter naming what is missing', async () => {
    const { get } = await setup();
    const { key } = await onlyAaPlugin(get);
    for (const [query, missing] of [
      [`plugin_type=aa&ops=zip_checksum`, ['key']],
      [`key=${key}&ops=zip_checksum`, ['plugin_type']],
      [`key=${key}&plugin_type=aa`, ['ops']],
      ['', ['key', 'plugin_type', 'ops']],
    ] as const) {
      const res = await get(`/api/plugin/integrity?${query}`);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({
        error: {
          type: 'MissingMandatoryParameter',
          message: 'One of the following keys is missing: key, plugin_type, ops',
          details: { missing_parameters: missing },
        },
        meta: { href: '/api/plugin/integrity', parent: '/api/plugin' },
      });
    }
  });

  it('integrity: 400 InvalidFormat for a malformed key or an unknown plugin type', async () => {
    const { get } = await setup();
    const { key } = await onlyAaPlugin(get);
    const bad = await get(integrityPath('not-a-key'));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toEqual({
      type: 'InvalidFormat',
      message: 'The key is not valid plugin key',
      details: { parameter: 'key', value: 'not-a-key' },
    });
    const type = await get(integrityPath(key, 'nope'));
    expect(type.status).toBe(400);
    expect(type.json.error).toMatchObject({ type: 'InvalidFormat', details: { parameter: 'plugin_type' } });
  });

  it('integrity: 404 MissingPlugin for a plugin the configuration lacks (or of another type)', async () => {
    const { get } = await setup();
    const { key } = await onlyAaPlugin(get);
    for (const [k, type] of [
      ['0'.repeat(22), 'aa'],
      [key, 'credentialstore'],
    ]) {
      const res = await get(integrityPath(k!, type));
      expect(res.status).toBe(404);
      expect(res.json.error).toEqual({
        type: 'MissingPlugin',
        message: 'The plugin is not found in the configuration',
        details: { key: k, plugin_type: type },
      });
    }
  });

  it('integrity: answers the checks asked for, an unknown one "unavailable"', async () => {
    const { get } = await setup();
    const { key } = await onlyAaPlugin(get);
    const body = (await get(integrityPath(key, 'aa', ['zip_content', 'signature']))).json.body;
    expect(Object.keys(body)).toEqual(['zip_content', 'signature']);
    expect(body.signature).toEqual({
      verdict: 'unavailable',
      reason: 'Cannot find checker. Make sure that you use an existing checker: signature',
    });
  });
});
