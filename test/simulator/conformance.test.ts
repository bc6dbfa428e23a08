import { request, type Dispatcher } from 'undici';
import { SpsClient, toApiError } from '../../lambdas/shared/sps/client';
import { infoSchema } from '../../lambdas/shared/sps/schemas';
import {
  startSimulator,
  type ApplianceOptions,
  type IntegratedProduct,
  type SimulatedAppliance,
  type Simulator,
} from '../../local/simulator';
import { fixture, fixtureNames } from '../helpers/fixtures';
import { recordingAgent, type Answer } from './helpers';

/*
 * Conformance with the vendor samples (test/fixtures/sps, copied from ../shared/sps-api/docs and
 * NOTES §2.1): for every sample, a real simulator over HTTPS is driven into the state that
 * produces it and asked the same request. Its answer must have the sample's fields at every level
 * with the sample's JSON types (list items are compared with the sample's item of the same kind),
 * and the project's SpsClient must read it. Where the simulator goes beyond a sample, a rule below
 * allows exactly that and says why.
 */

type JsonType = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean';
const typeOf = (v: unknown): JsonType => (v === null ? 'null' : Array.isArray(v) ? 'array' : (typeof v as JsonType));

interface Rules {
  /** Fields the simulator sends beyond the sample, by path (`$.meta.remaining_seconds`). */
  extra?: string[];
  /** Other JSON types the docs' field tables allow at a path (`$.items[].body.start_time`). */
  types?: Record<string, JsonType[]>;
  /** How the items of a list are told apart (`$.items`); the default is their JSON type. */
  kinds?: Record<string, (item: unknown) => string>;
  /** Lists the simulator leaves empty where the sample has items (their items are then not compared). */
  empty?: string[];
}

/** Where `actual` differs from `sample` in fields or JSON types; empty when they conform. */
function differences(sample: unknown, actual: unknown, rules: Rules, path = '$'): string[] {
  const want = typeOf(sample);
  const got = typeOf(actual);
  if (want !== got) {
    return rules.types?.[path]?.includes(got) ? [] : [`${path}: ${got} where the sample has ${want}`];
  }
  const out: string[] = [];
  if (want === 'object') {
    const s = sample as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    for (const key of Object.keys(s)) {
      if (key in a) out.push(...differences(s[key], a[key], rules, `${path}.${key}`));
      else out.push(`${path}.${key}: missing`);
    }
    for (const key of Object.keys(a)) {
      if (!(key in s) && !rules.extra?.includes(`${path}.${key}`)) out.push(`${path}.${key}: not in the sample`);
    }
  } else if (want === 'array') {
    const kind = rules.kinds?.[path] ?? typeOf;
    const s = sample as unknown[];
    const a = actual as unknown[];
    if (!a.length && rules.empty?.includes(path)) return [];
    for (const item of s) {
      const peers = a.filter((x) => kind(x) === kind(item));
      if (!peers.length) out.push(`${path}[]: no item of kind ${kind(item)}`);
      for (const peer of peers) out.push(...differences(item, peer, rules, `${path}[]`));
    }
    const known = new Set(s.map(kind));
    for (const item of a)
      if (!known.has(kind(item))) out.push(`${path}[]: an item of kind ${kind(item)} the sample lacks`);
  }
  return [...new Set(out)];
}

/**
 * Authenticated answers carry `meta.remaining_seconds` (NOTES §1.2: "meta.remaining_seconds
 * appears in responses for authenticated users", e.g. the /api/info sample's 9889 and the
 * configuration samples' 600), also where a sample leaves it out.
 */
const SESSION_META = ['$.meta.remaining_seconds'];
const byStatus = (item: unknown) => String((item as { body: { status: unknown } }).body.status);
const slotKind = (item: unknown) => {
  const body = (item as { body: Record<string, unknown> }).body;
  if (!('version' in body)) return 'empty';
  return body.current ? 'current' : body.after_reboot ? 'after-reboot' : 'other';
};
const bySyncStatus = (item: unknown) => String((item as { sync_status: unknown }).sync_status);
const byActivated = (item: unknown) => `activated=${String((item as { activated: unknown }).activated)}`;

const URL_801 = 'https://downloads.example.internal/sps-8.0.1.iso';
const SHA = 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80';

interface Ctx {
  sim: Simulator;
  appliance: SimulatedAppliance;
  client: SpsClient;
  /**
   * For requests the client never sends: they go through the same recording connection pool, with
   * a session unless `anonymous`.
   */
  raw: (method: 'GET' | 'POST', path: string, body?: string, anonymous?: boolean) => Promise<Dispatcher.ResponseData>;
  minutes: (n: number) => void;
}

interface Case {
  /** The state, when a sample has more than one. */
  state?: string;
  appliance?: Partial<ApplianceOptions>;
  /** Appliances served beside it (the other nodes of its cluster). */
  others?: ApplianceOptions[];
  /** Drives the simulator into the sample's state and sends its request; returns what the client made of it. */
  run: (ctx: Ctx) => Promise<unknown>;
  /** The request whose answer is the sample's counterpart (the last one, when it was repeated). */
  request: [method: string, path: RegExp];
  status: number;
  rules?: Rules;
  /** What the client must have made of the answer. */
  parsed: (result: unknown) => void;
}

/** The error a call failed with (a call that succeeds fails the test). */
const rejection = (p: Promise<unknown>) =>
  p.then(
    (v) => {
      throw new Error(`expected an error, got ${JSON.stringify(v)}`);
    },
    (e: unknown) => e,
  );

const products = (file: string) => (fixture(file) as { items: IntegratedProduct[] }).items;
const integrated = (file: string): Case => ({
  // The sample's products, configured: the answer's envelope and item types are what is checked.
  appliance: { integratedProducts: products(file) },
  run: ({ client }) => client.getIntegratedProducts(),
  request: ['GET', /^\/api\/integrated_products$/],
  status: 200,
  // No meta at all, as in the samples.
  rules: { kinds: { '$.items': byActivated } },
  parsed: (r) => expect(r).toEqual(products(file).map(({ name, link, activated }) => ({ name, link, activated }))),
});

/*
 * The preflight samples: the client's reads of them are being written beside this; until they land,
 * these cases send the request by hand and check the answer's values here.
 */
const SAMPLE_PLUGIN = { type: 'aa', key: '2080160955734bb2a1ddf9', name: 'AAPluginExample', version: '1.1' } as const;
const get =
  (path: string) =>
  async ({ raw }: Ctx) =>
    (await raw('GET', path)).body.json();
const preflight = (path: string, c: Omit<Case, 'run' | 'request' | 'status'>): Case => ({
  run: get(path),
  request: ['GET', new RegExp(`^${path.replace(/[?]/g, '\\?')}$`)],
  status: 200,
  ...c,
});

/** The cluster samples' two nodes: the appliance under test is the Central Management node. */
const MANAGED_HOST: ApplianceOptions = {
  name: 'sps-managed-host',
  cluster: 'prod',
  roles: ['managed-host', 'search-minion'],
};
const IN_CLUSTER = {
  appliance: { cluster: 'prod', roles: ['central-management', 'search-master'] },
  others: [MANAGED_HOST],
} satisfies Partial<Case>;

const CASES: Record<string, Case[]> = {
  'info-anonymous.json': [
    {
      // The client reads this view only as "not logged in" (getInfo logs in again): its schema must still read it.
      run: async ({ raw }) => infoSchema.parse(await (await raw('GET', '/api/info', undefined, true)).body.json()),
      request: ['GET', /^\/api\/info$/],
      status: 200,
      parsed: (r) => expect(r).toMatchObject({ hostname: 'sps-conformance', firmwareVersion: undefined }),
    },
  ],
  'info-authenticated.json': [
    {
      // A Central Management node that is also the Search Master, as in the sample (NOTES §2.5).
      appliance: { roles: ['central-management', 'search-master'] },
      run: ({ client }) => client.getInfo(),
      request: ['GET', /^\/api\/info$/],
      status: 200,
      parsed: (r) => expect(r).toMatchObject({ hostname: 'sps-conformance', firmwareVersion: '7.5.1' }),
    },
  ],
  'firmware.json': [
    {
      run: ({ client }) => client.listFirmwareEndpoints(),
      request: ['GET', /^\/api\/firmware$/],
      status: 200,
      rules: { extra: SESSION_META },
      parsed: (r) => expect(r).toEqual(['fetch', 'slots', 'test', 'upgrade']),
    },
  ],
  'firmware-slots.json': [
    {
      // Five slots: the running one, one chosen for after the reboot, another image, two empty.
      appliance: { slotCount: 5 },
      run: async ({ appliance, client }) => {
        appliance.startFetch(URL_801, { finished: true });
        appliance.startFetch('https://downloads.example.internal/sps-7.6.0.iso', { finished: true });
        await client.upgradeFirmware('2', 'Upgrade to 8.0.1');
        return client.listFirmwareSlots(); // before the reboot starts (2 s)
      },
      request: ['GET', /^\/api\/firmware\/slots$/],
      status: 200,
      rules: { extra: SESSION_META, kinds: { '$.items': slotKind } },
      parsed: (r) =>
        expect(r).toMatchObject({
          current: { id: '1', version: '7.5.1' },
          afterReboot: { id: '2', version: '8.0.1' },
          emptyCount: 2,
        }),
    },
  ],
  'firmware-fetch-start.json': [
    {
      run: ({ client }) => client.startFirmwareFetch(URL_801, SHA),
      request: ['POST', /^\/api\/firmware\/fetch$/],
      // "Download requests are processed asynchronously, as indicated by the 202 Accepted HTTP response."
      status: 202,
      rules: { extra: SESSION_META },
      parsed: (r) => expect(r).toMatch(/^[0-9a-f-]{36}$/),
    },
  ],
  'firmware-fetch-one.json': [
    {
      run: async ({ client, minutes }) => {
        const key = await client.startFirmwareFetch(URL_801, SHA);
        minutes(30);
        return client.getFirmwareFetch(key);
      },
      request: ['GET', /^\/api\/firmware\/fetch\/[^/]+$/],
      status: 200,
      rules: { extra: SESSION_META },
      parsed: (r) => expect(r).toMatchObject({ status: 'finished', slotId: '2', error: null, info: null }),
    },
  ],
  'firmware-fetch-list.json': [
    {
      // One download of each status the sample shows: finished, failed (checksum), in-progress, queued.
      appliance: {
        firmwareCatalog: [
          { url: 'https://downloads.example.internal/sps-8.0.2.iso', version: '8.0.2', sha256: 'f'.repeat(64) },
        ],
      },
      run: async ({ client, minutes }) => {
        await client.startFirmwareFetch(URL_801, SHA);
        await client.startFirmwareFetch('https://downloads.example.internal/sps-8.0.2.iso', SHA);
        minutes(30);
        await client.startFirmwareFetch('https://downloads.example.internal/sps-8.1.0.iso', SHA);
        minutes(1);
        await client.startFirmwareFetch('https://downloads.example.internal/sps-8.2.0.iso', SHA);
        return client.listFirmwareFetches();
      },
      request: ['GET', /^\/api\/firmware\/fetch$/],
      status: 200,
      rules: { extra: SESSION_META, kinds: { '$.items': byStatus } },
      parsed: (r) =>
        expect((r as Array<{ status: string }>).map((f) => f.status).sort()).toEqual([
          'failed',
          'finished',
          'in-progress',
          'queued',
        ]),
    },
  ],
  'firmware-test-passed.json': [
    {
      run: async ({ appliance, client }) => {
        appliance.startFetch(URL_801, { finished: true });
        return client.testFirmware('2');
      },
      request: ['POST', /^\/api\/firmware\/test$/],
      status: 200, // inferred: the docs show only the body (NOTES §2.3)
      rules: { extra: SESSION_META },
      parsed: (r) => expect(r).toEqual({ slotId: '2', testSummary: 'HA check started\nHA check finished' }),
    },
  ],
  'firmware-upgrade-accepted.json': [
    {
      run: async ({ appliance, client }) => {
        appliance.startFetch(URL_801, { finished: true });
        return client.upgradeFirmware('2', 'Upgrade to 8.0.1');
      },
      request: ['POST', /^\/api\/firmware\/upgrade$/],
      status: 200, // inferred (NOTES §2.4: "probably 200")
      rules: { extra: SESSION_META },
      parsed: (r) => expect(r).toMatchObject({ slotId: '2' }),
    },
  ],
  'error-firmware-test-failed.json': [
    {
      appliance: { scenario: 'precheck-fails' },
      run: ({ appliance, client }) => {
        appliance.startFetch(URL_801, { finished: true });
        return rejection(client.testFirmware('2'));
      },
      request: ['POST', /^\/api\/firmware\/test$/],
      status: 400, // inferred: the docs show only the body (NOTES §2.3)
      parsed: (e) => expect(e).toMatchObject({ name: 'Sps.PrecheckFailed', type: 'FirmwareTestFailed', exitCode: 1 }),
    },
  ],
  'error-incomplete-request-body.json': [
    {
      // The client always sends slot_id: this request is written by hand, and read by its error mapping.
      run: async ({ raw }) => toApiError(await raw('POST', '/api/firmware/test', '{}'), 'POST', '/api/firmware/test'),
      request: ['POST', /^\/api\/firmware\/test$/],
      status: 400,
      parsed: (e) => expect(e).toMatchObject({ name: 'Sps.IncompleteRequestBody', missingPaths: ['slot_id'] }),
    },
  ],
  'error-resource-not-found.json': [
    {
      run: ({ client }) => rejection(client.testFirmware('3')), // slot 3 is empty
      request: ['POST', /^\/api\/firmware\/test$/],
      status: 404,
      parsed: (e) =>
        expect(e).toMatchObject({
          name: 'Sps.NotFound',
          type: 'ResourceNotFound',
          details: { mount_point: '/firmware/test', resource: '3' },
        }),
    },
  ],
  'error-support-bundle-download-not-found.json': [
    {
      state: 'a failed job (the sample)',
      appliance: { scenario: 'bundle-fails' },
      run: async ({ client, minutes }) => {
        const key = await client.createSupportBundle();
        minutes(2);
        return rejection(client.downloadSupportBundle(key));
      },
      request: ['GET', /^\/api\/troubleshooting\/support-bundle\/[^/]+\/download$/],
      status: 404,
      parsed: (e) => expect(e).toMatchObject({ name: 'Sps.NotFound', type: 'ResourceNotFound' }),
    },
    {
      state: 'a job still running',
      run: async ({ client }) => rejection(client.downloadSupportBundle(await client.createSupportBundle())),
      request: ['GET', /^\/api\/troubleshooting\/support-bundle\/[^/]+\/download$/],
      status: 404,
      parsed: (e) => expect(e).toMatchObject({ name: 'Sps.NotFound', type: 'ResourceNotFound' }),
    },
  ],
  'support-bundle-create.json': [
    {
      state: 'behind a running job: queued (the sample)',
      appliance: { scenario: 'busy-bundle-queue' },
      run: ({ client }) => client.createSupportBundle(),
      request: ['POST', /^\/api\/troubleshooting\/support-bundle$/],
      status: 201, // inferred (NOTES §3: "POST status code: [UNKNOWN]")
      rules: { extra: SESSION_META, kinds: { '$.items': byStatus } },
      parsed: (r) => expect(r).toMatch(/^[0-9a-f-]{36}$/),
    },
    {
      state: 'on an idle appliance: in-progress at once',
      run: ({ client }) => client.createSupportBundle(),
      request: ['POST', /^\/api\/troubleshooting\/support-bundle$/],
      status: 201,
      rules: {
        extra: SESSION_META,
        // The field table: "start_time | string (date-time) | The starting point of the SPS support
        // bundle generation job." The sample's null is a queued job's; a started one has the time.
        types: { '$.items[].body.start_time': ['string'] },
      },
      parsed: (r) => expect(r).toMatch(/^[0-9a-f-]{36}$/),
    },
  ],
  'support-bundle-list.json': [
    {
      // Jobs run one at a time (90 s each): after 200 s the first failed, the second finished,
      // the third runs and the fourth waits.
      run: async ({ sim, appliance, client }) => {
        appliance.scenario = 'bundle-fails';
        await client.createSupportBundle();
        appliance.scenario = 'happy';
        for (let i = 0; i < 3; i++) await client.createSupportBundle();
        sim.clock.advance(200_000);
        return client.listSupportBundles();
      },
      request: ['GET', /^\/api\/troubleshooting\/support-bundle$/],
      status: 200,
      rules: { extra: SESSION_META, kinds: { '$.items': byStatus } },
      parsed: (r) =>
        expect((r as Array<{ status: string }>).map((b) => b.status).sort()).toEqual([
          'failed',
          'finished',
          'in-progress',
          'queued',
        ]),
    },
  ],
  'health-status.json': [
    preflight('/api/health_status', {
      // As in the sample: a corrupted core, and sessions of every protocol.
      appliance: {
        firmwareIntegrity: { core: 'CORRUPTED' },
        sessionsInProgress: { http: 1, ica: 2, mssql: 3, rdp: 4, ssh: 5, telnet: 6, vnc: 7 },
      },
      parsed: (r) =>
        expect(r).toMatchObject({
          health_status: {
            firmware: { integrity: { boot: 'OK', core: 'CORRUPTED' } },
            sessions_total: 28,
            system_details: { disk: { percent: 40 } },
          },
        }),
    }),
  ],
  'system-backup.json': [
    preflight('/api/configuration/management/system_backup', {
      parsed: (r) => expect(r).toMatchObject({ body: { backup_policy: expect.stringMatching(/\S/) } }),
    }),
  ],
  'exported-configuration-encryption.json': [
    preflight('/api/configuration/management/exported_configuration_encryption', {
      parsed: (r) => expect(r).toMatchObject({ body: { encryption: { enabled: true } } }),
    }),
  ],
  'cluster-interface.json': [
    preflight('/api/configuration/local_services/cluster', {
      appliance: { clusterInterface: true },
      parsed: (r) => expect(r).toMatchObject({ body: { enabled: true } }),
    }),
  ],
  'plugins-aa-list.json': [
    preflight('/api/configuration/plugins/aa', {
      appliance: { plugins: [SAMPLE_PLUGIN] },
      rules: { extra: SESSION_META },
      parsed: (r) => expect(r).toMatchObject({ items: [{ key: SAMPLE_PLUGIN.key }] }),
    }),
  ],
  'plugin-aa-one.json': [
    preflight(`/api/configuration/plugins/aa/${SAMPLE_PLUGIN.key}`, {
      appliance: { plugins: [SAMPLE_PLUGIN] },
      rules: { extra: SESSION_META },
      parsed: (r) =>
        expect(r).toMatchObject({
          key: SAMPLE_PLUGIN.key,
          body: { name: 'AAPluginExample', version: '1.1', scb_min_version: '', scb_max_version: '' },
        }),
    }),
  ],
  'aa-plugin-instances-list.json': [
    preflight('/api/configuration/policies/aa_plugin_instances', {
      appliance: { plugins: [{ ...SAMPLE_PLUGIN, inUse: true }] },
      parsed: (r) => expect(r).toMatchObject({ items: [{ plugin: SAMPLE_PLUGIN.key }] }),
    }),
  ],
  'aa-plugin-instance-one.json': [
    {
      appliance: { plugins: [{ ...SAMPLE_PLUGIN, inUse: true }] },
      // The list names no instance keys (as in the sample): the appliance's state does.
      run: (ctx) =>
        get(`/api/configuration/policies/aa_plugin_instances/${ctx.appliance.state().pluginInstances[0]!.key}`)(ctx),
      request: ['GET', /^\/api\/configuration\/policies\/aa_plugin_instances\/[0-9a-f]{22}$/],
      status: 200,
      parsed: (r) => expect(r).toMatchObject({ body: { plugin: { key: SAMPLE_PLUGIN.key } } }),
    },
  ],
  'plugin-integrity.json': [
    {
      appliance: { plugins: [SAMPLE_PLUGIN] },
      run: get(
        `/api/plugin/integrity?key=${SAMPLE_PLUGIN.key}&plugin_type=aa&ops=zip_checksum&ops=zip_content&ops=unregistered`,
      ),
      request: ['GET', /^\/api\/plugin\/integrity$/],
      status: 200,
      // The sample's verdicts and reasons, exactly.
      parsed: (r) => expect(r).toEqual(fixture('plugin-integrity.json')),
    },
  ],
  'cluster-nodes.json': [
    {
      // The sample's cluster: a Central Management node (it answers) and a managed host.
      ...IN_CLUSTER,
      run: get('/api/cluster/nodes'),
      request: ['GET', /^\/api\/cluster\/nodes$/],
      status: 200,
      parsed: (r) =>
        expect(r).toMatchObject({
          items: [{ key: expect.any(String) }, { key: expect.any(String) }],
          meta: { self: expect.stringMatching(/^\/api\/cluster\/nodes\/[0-9a-f-]{36}$/) },
        }),
    },
  ],
  'cluster-node-one.json': [
    {
      ...IN_CLUSTER,
      run: (ctx) => get(`/api/cluster/nodes/${ctx.appliance.nodeKey}`)(ctx),
      request: ['GET', /^\/api\/cluster\/nodes\/[0-9a-f-]{36}$/],
      status: 200,
      // The address is the host of the node's endpoint (the sample has a placeholder).
      parsed: (r) =>
        expect(r).toMatchObject({
          body: { address: expect.stringMatching(/^127\.0\.0\.\d+$/), roles: ['central-management', 'search-master'] },
        }),
    },
  ],
  'cluster-status.json': [
    {
      ...IN_CLUSTER,
      // The sample's managed host has 3 SSH and 4 RDP sessions.
      others: [{ ...MANAGED_HOST, sessionsInProgress: { ssh: 3, rdp: 4 } }],
      run: get('/api/cluster/status'),
      request: ['GET', /^\/api\/cluster\/status$/],
      status: 200,
      rules: {
        extra: SESSION_META,
        kinds: { '$.items': bySyncStatus },
        // A simulated cluster has no configuration conflicts to warn about.
        empty: ['$.items[].configuration_sync.issues.warnings'],
      },
      parsed: (r) =>
        expect(r).toMatchObject({
          items: [
            { fqdn: 'sps-conformance.example', health_status: null, sync_status: 'n/a' },
            { fqdn: 'sps-managed-host.example', health_status: { sessions: { ssh: 3, rdp: 4 }, total_sessions: 7 } },
          ],
        }),
    },
  ],
  'integrated-products-empty.json': [integrated('integrated-products-empty.json')],
  'integrated-products-spp.json': [integrated('integrated-products-spp.json')],
  'integrated-products-starling.json': [integrated('integrated-products-starling.json')],
  'integrated-products-starling-joined.json': [integrated('integrated-products-starling-joined.json')],
};

let sim: Simulator | undefined;
let closeAgent: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeAgent?.();
  await sim?.close();
  sim = undefined;
});

describe('the shape comparison', () => {
  const sample = { items: [{ body: { status: 'queued', start_time: null } }], meta: { href: '/x' } };
  it('finds missing and extra fields, other types and missing kinds', () => {
    const rules: Rules = { kinds: { '$.items': byStatus } };
    expect(differences(sample, sample, rules)).toEqual([]);
    expect(differences(sample, { items: [], meta: { href: '/x', more: 1 } }, rules)).toEqual([
      '$.items[]: no item of kind queued',
      '$.meta.more: not in the sample',
    ]);
    expect(
      differences(sample, { items: [{ body: { status: 'queued', start_time: 'now' } }], meta: {} }, rules),
    ).toEqual(['$.items[].body.start_time: string where the sample has null', '$.meta.href: missing']);
    expect(
      differences(sample, { items: [{ body: { status: 'failed', start_time: null } }], meta: { href: '/x' } }, rules),
    ).toEqual(['$.items[]: no item of kind queued', '$.items[]: an item of kind failed the sample lacks']);
    expect(differences(sample, { items: [], meta: { href: '/x' } }, { empty: ['$.items'] })).toEqual([]);
  });
});

describe('the simulator answers like the vendor samples, and the client reads its answers', () => {
  it('has a case for every sample in test/fixtures/sps', () => {
    expect(Object.keys(CASES).sort()).toEqual(fixtureNames().sort());
  });

  const runs = fixtureNames().flatMap((file) =>
    (CASES[file] ?? []).map((c) => ({ title: c.state ? `${file}: ${c.state}` : file, file, c })),
  );
  it.each(runs)('$title', async ({ file, c }) => {
    sim = await startSimulator({
      // A long idle timeout: the clock jumps ahead in some cases; re-logins would only add noise.
      appliances: [{ name: 'sps-conformance', sessionIdleSeconds: 24 * 3600, ...c.appliance }, ...(c.others ?? [])],
    });
    const s = sim;
    const appliance = s.appliance('sps-conformance');
    const recorder = recordingAgent(s.caPem);
    closeAgent = () => recorder.agent.close();
    const client = new SpsClient({
      endpoint: appliance.endpoint,
      credentials: { username: appliance.username, password: appliance.password },
      dispatcher: recorder.dispatcher,
      retry: { attempts: 1 },
    });
    const ctx: Ctx = {
      sim: s,
      appliance,
      client,
      minutes: (n) => s.clock.advance(n * 60_000),
      raw: async (method, path, body, anonymous) =>
        request(`${appliance.endpoint}${path}`, {
          dispatcher: recorder.dispatcher,
          method,
          headers: {
            ...(anonymous ? {} : { cookie: `session_id=${await client.login()}` }),
            'user-agent': 'sps-conformance-test',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body,
        }),
    };
    const result = await c.run(ctx);

    const [method, path] = c.request;
    const answer: Answer | undefined = recorder.answers.filter((a) => a.method === method && path.test(a.path)).at(-1);
    expect(answer).toBeDefined();
    expect(answer!.status).toBe(c.status);
    expect(answer!.contentType).toBe('application/json');
    expect(differences(fixture(file), JSON.parse(answer!.text), c.rules ?? {})).toEqual([]);
    c.parsed(result);
  });
});
