import { randomBytes, randomUUID } from 'node:crypto';
import { bundleSha256 } from './content';

/*
 * One simulated SPS appliance: its state and its REST API, as the vendor pages and
 * ../shared/sps-api/NOTES.md describe them. Time-driven state (downloads, bundle jobs, reboots,
 * session expiry) is derived from the simulator clock on every request, so jumping the clock ahead
 * is deterministic. Status codes the docs leave open are marked "inferred".
 */

export const SCENARIOS = [
  'happy',
  'precheck-fails',
  'fetch-fails',
  'no-empty-slot',
  'already-current',
  'bundle-fails',
  'busy-bundle-queue',
  'session-expires',
  'flaky-5xx',
  'connection-resets',
  'truncated-download',
  'slow-reboot',
  'upgrade-502',
  'upgrade-reverts',
  'foreign-fetch',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ApplianceOptions {
  name: string;
  scenario?: ScenarioName;
  username?: string;
  password?: string;
  /** The running version. */
  firmwareVersion?: string;
  slotCount?: number;
  sessionIdleSeconds?: number;
  rebootSeconds?: number;
  firmwareBytes?: number;
  fetchBytesPerSecond?: number;
  bundleBytes?: number;
  bundleGenerateSeconds?: number;
  /** The POST answer's shape: the vendor sample's list, or a top-level `key` (seen in public client code). */
  bundleCreateResponse?: 'items' | 'key';
  /** What a fetch of a URL installs (else the first x.y.z in the URL, else 8.0.1). */
  firmwareCatalog?: Array<{ url: string; version: string; sha256?: string }>;
  /** `foreign-fetch`: the version the operator's download installs (else as for any fetch of its URL). */
  foreignFetchVersion?: string;
  /** `body.roles` of the authenticated `/api/info` (empty on a standalone appliance, NOTES §2.5). */
  roles?: string[];
  /** What `GET /api/integrated_products` lists (none by default). */
  integratedProducts?: IntegratedProduct[];
}

export interface IntegratedProduct {
  name: string;
  link: string | null;
  activated: boolean;
}

/** What an operator enters when starting a download in the web interface (see `Appliance.startFetch`). */
export interface OperatorFetch {
  /** Else what any fetch of the URL installs. */
  version?: string;
  /** Else the checksum is the right one. */
  sha256?: string;
  /** The download is already over and filled a slot. */
  finished?: boolean;
}

/** `lost-answer`: the request is carried out, then the connection resets before the answer. */
export type FaultKind = 'http-503' | 'http-500-json' | 'reset' | 'truncate' | 'hang' | 'lost-answer';
export interface Fault {
  method?: string;
  path?: RegExp | string;
  kind: FaultKind;
  times?: number;
}

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What the server should do with a request. */
export type SimAction =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'html'; status: number; title: string }
  | { kind: 'download'; key: string; fileName: string; bytes: number; truncateAt?: number }
  | { kind: 'reset' }
  | { kind: 'hang' };

interface SlotState {
  key: string;
  version?: string;
  current: boolean;
  afterReboot: boolean;
}
interface FetchJob {
  key: string;
  url: string;
  version: string;
  checksumOk: boolean;
  createdAt: number;
  canceledAt?: number;
  removed: boolean;
  /** Started by an operator in the web interface, not through the REST API (tests tell theirs apart). */
  operator: boolean;
  /** Set once the job has finished and filled a slot (or failed for want of one). */
  outcome?: { status: 'finished'; slotId: number } | { status: 'failed'; error: string };
}
interface BundleJob {
  key: string;
  createdAt: number;
  generateMs: number;
  fails: boolean;
  deletedAt?: number;
  downloads: number;
}
interface Session {
  createdAt: number;
  lastSeen: number;
  requests: number;
}
interface Reboot {
  startAt: number;
  endAt: number;
  slotKey: string;
  /** The slot that was running when the upgrade was asked for. */
  previousSlotKey: string;
  /** `upgrade-reverts`: the appliance comes back on `previousSlotKey`. */
  reverts: boolean;
  applied: boolean;
  sessionsDropped: boolean;
}

const HOUR = 3600_000;
const DEFAULT_FETCH_URL = 'https://downloads.example.internal/sps-8.0.1.iso';
const QUEUED_MS = 2_000;
const VERIFY_MS = 10_000;
const FETCH_ERROR =
  "<class 'requests.exceptions.ConnectionError'>: HTTPConnectionPool(host='downloads.example.internal', port=443): Max retries exceeded with url: /sps.iso (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7fc45e0e1ac0>: Failed to establish a new connection: [Errno 111] Connection refused'))";

const envelope = (type: string, message: string, details: unknown, href: string) => ({
  error: { type, message, details },
  meta: { href, parent: href.replace(/\/[^/]*$/, '') || '/api' },
});

/** `IncompleteRequestBodyError` naming the missing body fields (vendor sample). */
const incomplete = (missing: string[], path: string): SimAction => ({
  kind: 'json',
  status: 400,
  body: envelope(
    'IncompleteRequestBodyError',
    'Some paths were missing from the request body',
    { missing_paths: missing },
    path,
  ),
});

export class Appliance {
  readonly name: string;
  readonly username: string;
  readonly password: string;
  scenario: ScenarioName;
  firmwareVersion: string;
  private readonly opts: Required<
    Omit<ApplianceOptions, 'scenario' | 'username' | 'password' | 'firmwareVersion' | 'name' | 'foreignFetchVersion'>
  >;
  private slots: SlotState[];
  private fetches: FetchJob[] = [];
  private bundles: BundleJob[] = [];
  private readonly sessions = new Map<string, Session>();
  private reboot: Reboot | undefined;
  private faults: Array<Fault & { left: number }> = [];
  private flakyCount = 0;
  private flakyBurst = 0;
  /** Every session id this appliance ever issued (tests scan outputs for them). */
  readonly issuedSessionIds: string[] = [];

  constructor(options: ApplianceOptions, now: number) {
    this.name = options.name;
    this.scenario = options.scenario ?? 'happy';
    this.username = options.username ?? 'admin';
    this.password = options.password ?? `sim-${randomBytes(12).toString('hex')}`;
    this.opts = {
      slotCount: options.slotCount ?? 4,
      sessionIdleSeconds: options.sessionIdleSeconds ?? 600,
      rebootSeconds: options.rebootSeconds ?? (this.scenario === 'slow-reboot' ? 3600 : 300),
      firmwareBytes: options.firmwareBytes ?? 1_521_614_848,
      fetchBytesPerSecond: options.fetchBytesPerSecond ?? 1_300_000,
      bundleBytes: options.bundleBytes ?? 8 * 1024 * 1024,
      bundleGenerateSeconds: options.bundleGenerateSeconds ?? 90,
      bundleCreateResponse: options.bundleCreateResponse ?? 'items',
      firmwareCatalog: options.firmwareCatalog ?? [],
      roles: options.roles ?? [],
      integratedProducts: options.integratedProducts ?? [],
    };
    const catalogVersion = this.opts.firmwareCatalog[0]?.version ?? '8.0.1';
    this.firmwareVersion = options.firmwareVersion ?? (this.scenario === 'already-current' ? catalogVersion : '7.5.1');
    const older = ['7.0.1', '7.1.0', '7.2.0', '7.3.0', '7.4.0'];
    this.slots = Array.from({ length: this.opts.slotCount }, (_, i) => {
      const key = String(i + 1);
      if (i === 0) return { key, version: this.firmwareVersion, current: true, afterReboot: true };
      if (this.scenario === 'no-empty-slot')
        return { key, version: older[i - 1] ?? '6.9.0', current: false, afterReboot: false };
      return { key, current: false, afterReboot: false };
    });
    if (this.scenario === 'busy-bundle-queue') {
      // Someone else's job is already running and takes twice as long: ours waits behind it.
      this.bundles.push({
        key: randomUUID(),
        createdAt: now,
        generateMs: 2 * this.opts.bundleGenerateSeconds * 1000,
        fails: false,
        downloads: 0,
      });
    }
    if (this.scenario === 'foreign-fetch') {
      // An operator started a download in the web interface a little earlier: it is running.
      const url = this.opts.firmwareCatalog[0]?.url ?? DEFAULT_FETCH_URL;
      const ranMs = Math.min(30_000, this.downloadMs() / 10);
      this.addFetch(url, options.foreignFetchVersion ?? this.versionFor(url), true, now - QUEUED_MS - ranMs);
    }
  }

  // ---- inspection (tests) ---------------------------------------------------------------------

  injectFault(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  expireSessions(): void {
    this.sessions.clear();
  }

  /** What an administrator canceling every running download in the web interface does. */
  cancelFetches(now: number): void {
    this.settle(now);
    for (const job of this.fetches) {
      const status = this.fetchView(job, now).status;
      if (status === 'queued' || status === 'in-progress') job.canceledAt = now;
    }
  }

  /**
   * What an operator starting a download in the web interface does (a fetch job like the REST
   * API's). With `finished`, the download is already over and filled the first empty slot.
   */
  startFetch(now: number, url: string, options: OperatorFetch = {}): string {
    this.settle(now);
    const entry = this.catalogEntry(url);
    const checksumOk = !entry?.sha256 || !options.sha256 || entry.sha256.toLowerCase() === options.sha256.toLowerCase();
    const job = this.addFetch(url, options.version ?? this.versionFor(url), checksumOk, now);
    if (options.finished) {
      const empty = this.slots.find((s) => s.version === undefined);
      if (!empty) throw new Error(`${this.name}: no empty firmware slot for a finished download`);
      job.createdAt = now - this.fetchMs();
      empty.version = job.version;
      job.outcome = { status: 'finished', slotId: Number(empty.key) };
    }
    return job.key;
  }

  expectedBundle(key: string): { bytes: number; sha256: string; fileName: string } {
    return {
      bytes: this.opts.bundleBytes,
      sha256: bundleSha256(key, this.opts.bundleBytes),
      fileName: `${key}-debug_info.zip`,
    };
  }

  state(now: number) {
    this.settle(now);
    return {
      firmwareVersion: this.firmwareVersion,
      rebooting: this.isRebooting(now),
      sessions: this.sessions.size,
      slots: this.slots.map((s) => ({ ...s })),
      // finishesAt (simulated clock): when the download is done; benches measure detection lag with it.
      fetchJobs: this.fetches
        .filter((f) => !f.removed)
        .map((f) => ({
          key: f.key,
          operator: f.operator,
          finishesAt: f.createdAt + this.fetchMs(),
          ...this.fetchView(f, now),
        })),
      bundles: this.visibleBundles(now).map((b) => ({ key: b.key, ...this.bundleView(b, now) })),
    };
  }

  /** Down: new connections are refused (destroyed). The last 20 % of a reboot answers 503 instead. */
  isDown(now: number): boolean {
    const r = this.reboot;
    return !!r && !r.applied && now >= r.startAt && now < r.startAt + 0.8 * (r.endAt - r.startAt);
  }

  private isRebooting(now: number): boolean {
    const r = this.reboot;
    return !!r && !r.applied && now >= r.startAt && now < r.endAt;
  }

  // ---- time ---------------------------------------------------------------------------------

  /** Applies everything that happened up to `now`: finished fetches fill slots, reboots complete. */
  private settle(now: number): void {
    for (const job of this.fetches) {
      if (job.outcome || job.canceledAt !== undefined) continue;
      const end = job.createdAt + this.fetchMs();
      if (this.scenario === 'fetch-fails' || now < end) continue;
      if (!job.checksumOk) {
        job.outcome = {
          status: 'failed',
          error: 'Checksum verification failed: the SHA-256 of the downloaded image does not match',
        };
        continue;
      }
      const empty = this.slots.find((s) => s.version === undefined);
      if (!empty) {
        job.outcome = { status: 'failed', error: 'No empty firmware slot' };
        continue;
      }
      empty.version = job.version;
      job.outcome = { status: 'finished', slotId: Number(empty.key) };
    }
    const r = this.reboot;
    if (r && now >= r.startAt && !r.sessionsDropped) {
      this.sessions.clear();
      r.sessionsDropped = true;
    }
    if (r && !r.applied && now >= r.endAt) {
      // upgrade-reverts: the new firmware did not come up; the appliance booted the old one again.
      const booted = r.reverts ? r.previousSlotKey : r.slotKey;
      for (const s of this.slots) {
        const target = s.key === booted;
        s.current = target;
        s.afterReboot = target;
      }
      this.firmwareVersion = this.slots.find((s) => s.key === booted)?.version ?? this.firmwareVersion;
      r.applied = true;
    }
  }

  private downloadMs(): number {
    return (this.opts.firmwareBytes / this.opts.fetchBytesPerSecond) * 1000;
  }

  /** From creation to finished: queued, downloading, verifying the checksum. */
  private fetchMs(): number {
    return QUEUED_MS + this.downloadMs() + VERIFY_MS;
  }

  private catalogEntry(url: string) {
    return this.opts.firmwareCatalog.find((c) => c.url === url);
  }

  /** What a fetch of `url` installs: the catalog's version, else the first x.y.z in the URL, else 8.0.1. */
  private versionFor(url: string): string {
    return this.catalogEntry(url)?.version ?? /(\d+\.\d+\.\d+)/.exec(url)?.[1] ?? '8.0.1';
  }

  private addFetch(url: string, version: string, checksumOk: boolean, createdAt: number, operator = true): FetchJob {
    const job: FetchJob = { key: randomUUID(), url, version, checksumOk, createdAt, removed: false, operator };
    this.fetches.push(job);
    return job;
  }

  /** Uneven but steady progress: the rate swings between 0.5× and 1.5× of the average. */
  private downloadedFraction(x: number): number {
    const k = 3;
    return Math.min(1, Math.max(0, x - (0.5 / (2 * Math.PI * k)) * Math.sin(2 * Math.PI * k * x)));
  }

  private fetchView(job: FetchJob, now: number) {
    const total = this.opts.firmwareBytes;
    const base = {
      url: job.url,
      start_time: null as string | null,
      error: null as string | null,
      info: null as string | null,
      slot_id: null as number | null,
    };
    const started = job.createdAt + QUEUED_MS;
    const at = job.canceledAt ?? now;
    const startIso = new Date(started).toISOString().replace('Z', '+00:00').replace(/\.\d+/, '');
    const bytesAt = (t: number) => Math.floor(this.downloadedFraction((t - started) / this.downloadMs()) * total);
    if (job.canceledAt !== undefined) {
      return {
        ...base,
        status: 'canceled',
        bytes_downloaded: at < started ? 0 : bytesAt(at),
        bytes_total: at < started ? 0 : total,
        start_time: at < started ? null : startIso,
      };
    }
    if (now < started) return { ...base, status: 'queued', bytes_downloaded: 0, bytes_total: 0 };
    if (job.outcome?.status === 'finished') {
      return {
        ...base,
        status: 'finished',
        bytes_downloaded: total,
        bytes_total: total,
        start_time: startIso,
        slot_id: job.outcome.slotId,
      };
    }
    if (job.outcome?.status === 'failed') {
      return {
        ...base,
        status: 'failed',
        bytes_downloaded: total,
        bytes_total: total,
        start_time: startIso,
        error: job.outcome.error,
        info: 'Firmware fetching failed',
      };
    }
    if (this.scenario === 'fetch-fails' && now >= started + 0.3 * this.downloadMs()) {
      return {
        ...base,
        status: 'failed',
        bytes_downloaded: 0,
        bytes_total: 0,
        start_time: startIso,
        error: FETCH_ERROR,
        info: 'Firmware fetching failed',
      };
    }
    if (now < started + this.downloadMs()) {
      return {
        ...base,
        status: 'in-progress',
        bytes_downloaded: bytesAt(now),
        bytes_total: total,
        start_time: startIso,
        info: 'Downloading',
      };
    }
    return {
      ...base,
      status: 'in-progress',
      bytes_downloaded: total,
      bytes_total: total,
      start_time: startIso,
      info: 'Verifying checksum',
    };
  }

  /** Jobs run one at a time, in creation order; a deleted job frees the queue when it is deleted. */
  private bundleSchedule(now: number) {
    let previousEnd = -Infinity;
    return this.bundles.map((job) => {
      const start = Math.max(job.createdAt, previousEnd);
      const end = start + job.generateMs;
      previousEnd = job.deletedAt !== undefined ? Math.min(end, Math.max(start, job.deletedAt)) : end;
      const visible = (job.deletedAt === undefined || now < job.deletedAt) && now < end + 24 * HOUR;
      return { job, start, end, visible };
    });
  }

  private visibleBundles(now: number): BundleJob[] {
    return this.bundleSchedule(now)
      .filter((s) => s.visible)
      .map((s) => s.job);
  }

  private bundleView(job: BundleJob, now: number) {
    const s = this.bundleSchedule(now).find((x) => x.job === job)!;
    const startIso = new Date(s.start).toISOString().replace('Z', '+00:00').replace(/\.\d+/, '');
    if (now < s.start) return { status: 'queued', error: null, info: null, file_name: null, start_time: null };
    if (now < s.end) return { status: 'in-progress', error: null, info: null, file_name: null, start_time: startIso };
    if (job.fails) {
      return {
        status: 'failed',
        error: 'Timeout expired while waiting for creation of support-bundle.',
        info: null,
        file_name: null,
        start_time: startIso,
      };
    }
    return {
      status: 'finished',
      error: null,
      info: null,
      file_name: `${job.key}-debug_info.zip`,
      start_time: startIso,
    };
  }

  // ---- requests -----------------------------------------------------------------------------

  handle(req: SimRequest, now: number): SimAction {
    const action = this.respond(req, now);
    return this.matchFault(req, (kind) => kind === 'lost-answer') ? { kind: 'reset' } : action;
  }

  private respond(req: SimRequest, now: number): SimAction {
    this.settle(now);
    const fault = this.takeFault(req);
    if (fault) return fault;
    if (this.isRebooting(now)) return { kind: 'html', status: 503, title: '503 Service Unavailable' };

    const mutating = req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE';
    const hasLength = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
    if ((req.method === 'POST' || req.method === 'PUT') && !hasLength) {
      return { kind: 'html', status: 411, title: '411 Length Required' };
    }
    const ua = String(req.headers['user-agent'] ?? '');
    if (mutating && ua.includes('Mozilla/') && !req.headers['x-token']) {
      return {
        kind: 'json',
        status: 403,
        body: envelope(
          'Unauthorized',
          'Browser-like clients must send the X-Token header',
          { path: req.path },
          req.path,
        ),
      };
    }
    const scenarioFault = this.scenarioFault(req);
    if (scenarioFault) return scenarioFault;

    if (req.path === '/api/authentication' && req.method === 'GET') return this.login(req, now);
    if (req.path === '/api/info' && req.method === 'GET') return this.info(req, now);

    const session = this.authenticate(req, now);
    if (!session) {
      return {
        kind: 'json',
        status: 401,
        body: envelope('Unauthenticated', 'Authentication is required', { path: req.path }, req.path),
      };
    }
    const meta = { remaining_seconds: this.opts.sessionIdleSeconds };
    let body: unknown;
    try {
      body = req.body.length ? JSON.parse(req.body.toString('utf8')) : undefined;
    } catch {
      return {
        kind: 'json',
        status: 400,
        body: envelope('InvalidFormat', 'The request body is not valid JSON', {}, req.path),
      };
    }
    if (
      req.method === 'POST' &&
      req.body.length &&
      !String(req.headers['content-type'] ?? '').startsWith('application/json')
    ) {
      return {
        kind: 'json',
        status: 400,
        body: envelope('InvalidFormat', 'Content-Type must be application/json', {}, req.path),
      };
    }
    return this.route(req, body as Record<string, unknown> | undefined, now, meta);
  }

  /** Takes (counts down) the first fault of an accepted kind that matches the request. */
  private matchFault(req: SimRequest, accept: (kind: FaultKind) => boolean): Fault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        accept(f.kind) &&
        (!f.method || f.method === req.method) &&
        (!f.path || (typeof f.path === 'string' ? req.path === f.path : f.path.test(req.path))),
    );
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.left <= 0) this.faults.splice(i, 1);
    return f;
  }

  private takeFault(req: SimRequest): SimAction | undefined {
    const f = this.matchFault(req, (kind) => kind !== 'truncate' && kind !== 'lost-answer');
    if (!f) return undefined;
    switch (f.kind) {
      case 'http-503':
        return { kind: 'html', status: 503, title: '503 Service Unavailable' };
      case 'http-500-json':
        return { kind: 'json', status: 500, body: envelope('InternalError', 'Internal server error', {}, req.path) };
      case 'reset':
        return { kind: 'reset' };
      case 'hang':
        return { kind: 'hang' };
      case 'truncate':
      case 'lost-answer':
        return undefined; // applied by the download route, or after the request is carried out
    }
  }

  /** flaky-5xx / connection-resets: on every 4th GET or DELETE, a burst of two failures. */
  private scenarioFault(req: SimRequest): SimAction | undefined {
    if (this.scenario !== 'flaky-5xx' && this.scenario !== 'connection-resets') return undefined;
    if ((req.method !== 'GET' && req.method !== 'DELETE') || req.path === '/api/authentication') return undefined;
    const failure: SimAction =
      this.scenario === 'flaky-5xx'
        ? { kind: 'html', status: 503, title: '503 Service Unavailable' }
        : { kind: 'reset' };
    if (this.flakyBurst > 0) {
      this.flakyBurst--;
      return failure;
    }
    if (++this.flakyCount % 4 === 0) {
      this.flakyBurst = 1;
      return failure;
    }
    return undefined;
  }

  private login(req: SimRequest, now: number): SimAction {
    const method = req.query.get('login_method');
    const auth = String(req.headers.authorization ?? '');
    const [user, ...rest] = auth.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')
      : [];
    const ok = user === this.username && rest.join(':') === this.password && (method === null || method === 'local');
    if (!ok) {
      return {
        kind: 'json',
        status: 401,
        body: envelope(
          'Unauthenticated',
          'Authentication failed',
          { path: '/api/authentication' },
          '/api/authentication',
        ),
        headers: { 'www-authenticate': 'Basic realm="SPS"' },
      };
    }
    const id = randomBytes(20).toString('hex');
    this.sessions.set(id, { createdAt: now, lastSeen: now, requests: 0 });
    this.issuedSessionIds.push(id);
    // The expiry is on the appliance's clock, which may differ from the client's: clients ignore it.
    const expires = new Date(now + 20 * 60_000).toUTCString();
    return {
      kind: 'json',
      status: 200,
      body: { meta: { href: '/api/authentication', parent: '/api' } },
      headers: { 'set-cookie': `session_id=${id}; expires=${expires}; Path=/; HttpOnly` },
    };
  }

  private authenticate(req: SimRequest, now: number): Session | undefined {
    const cookie = String(req.headers.cookie ?? '');
    const id = /(?:^|;\s*)session_id=([0-9a-f]+)/.exec(cookie)?.[1];
    const session = id ? this.sessions.get(id) : undefined;
    if (!id || !session) return undefined;
    if (now - session.lastSeen > this.opts.sessionIdleSeconds * 1000) {
      this.sessions.delete(id);
      return undefined;
    }
    session.requests++;
    if (this.scenario === 'session-expires' && session.requests > 3) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }

  /**
   * "Note that part of this information is available without authentication" (vendor page): a
   * caller without a valid session (none, unknown, idle-expired, dropped by a reboot) gets the
   * anonymous view with 200, never a 401. firmware_version, version and build_date are "included
   * in the response only for authenticated users". Both views have exactly the vendor samples' fields.
   */
  private info(req: SimRequest, now: number): SimAction {
    const authed = this.authenticate(req, now);
    const common = {
      domainname: 'example',
      hostname: this.name,
      nickname: null,
      plugin_sdk_version: { feature: '1.4', full: '1.4.4' },
      support_link: 'mailto:sps-admin@example.com',
    };
    if (!authed) {
      return {
        kind: 'json',
        status: 200,
        body: { body: common, key: 'about_info', meta: { href: '/api/info', parent: '/api' } },
      };
    }
    const body = {
      analytics_enabled: false,
      build_date: '2026-06-15T20:18:40+00:00',
      config_hash: '2abde4c81d9b544bf53fae4f4b9657fc',
      ...common,
      firmware_version: this.firmwareVersion,
      roles: [...this.opts.roles],
      version: `${this.firmwareVersion.split('.')[0]} LTS`,
    };
    const meta = { href: '/api/info', parent: '/api', remaining_seconds: this.opts.sessionIdleSeconds };
    return { kind: 'json', status: 200, body: { body, key: 'about_info', meta } };
  }

  private route(
    req: SimRequest,
    body: Record<string, unknown> | undefined,
    now: number,
    meta: Record<string, unknown>,
  ): SimAction {
    const { method, path } = req;
    const ok = (payload: Record<string, unknown>, status = 200): SimAction => ({
      kind: 'json',
      status,
      body: { ...payload, meta: { ...(payload.meta as object), ...meta } },
    });
    const notFound = (mount: string, resource: string): SimAction => ({
      kind: 'json',
      status: 404,
      body: envelope('ResourceNotFound', 'Resource was not found', { mount_point: mount, resource }, path),
    });
    let m: RegExpExecArray | null;

    if (path === '/api/firmware' && method === 'GET') {
      const keys = ['fetch', 'slots', 'test', 'upgrade'];
      return ok({
        items: keys.map((key) => ({ key, meta: { href: `/api/firmware/${key}` } })),
        meta: {
          href: '/api/firmware',
          parent: '/api',
          ...Object.fromEntries(keys.map((k) => [k, `/api/firmware/${k}`])),
        },
      });
    }
    if (path === '/api/integrated_products' && method === 'GET') {
      // The vendor samples are `{"items": [...]}` and nothing else: no meta.
      return { kind: 'json', status: 200, body: { items: this.opts.integratedProducts.map((p) => ({ ...p })) } };
    }

    if (path === '/api/firmware/slots' && method === 'GET') {
      const current = this.slots.find((s) => s.current);
      const after = this.slots.find((s) => s.afterReboot);
      return ok({
        items: this.slots.map((s) => this.slotItem(s)),
        meta: {
          href: '/api/firmware/slots',
          parent: '/api/firmware',
          current_slot: current ? `/api/firmware/slots/${current.key}` : null,
          slot_after_reboot: after ? `/api/firmware/slots/${after.key}` : null,
          number_of_empty_slots: this.slots.filter((s) => s.version === undefined).length,
        },
      });
    }
    if ((m = /^\/api\/firmware\/slots\/([^/]+)$/.exec(path))) {
      const slot = this.slots.find((s) => s.key === m![1]);
      if (!slot) return notFound('/firmware/slots', m[1]!);
      if (method === 'GET') return ok(this.slotItem(slot));
      if (method === 'DELETE') {
        if (slot.current || slot.afterReboot) {
          return {
            kind: 'json',
            status: 400, // inferred
            body: envelope(
              'SemanticError',
              'Deleting the current firmware, or the one after the reboot, is not allowed',
              { slot: slot.key },
              path,
            ),
          };
        }
        if (slot.version === undefined) return notFound('/firmware/slots', slot.key);
        slot.version = undefined;
        return ok({});
      }
    }

    if (path === '/api/firmware/fetch' && method === 'POST') {
      const url = body?.url;
      const sha = (body?.checksum as { sha256?: unknown } | undefined)?.sha256;
      const missing = [
        ...(typeof url === 'string' ? [] : ['url']),
        ...(typeof sha === 'string' ? [] : ['checksum.sha256']),
      ];
      if (missing.length) {
        return incomplete(missing, path);
      }
      if (!/^[0-9a-fA-F]{64}$/.test(sha as string)) {
        return {
          kind: 'json',
          status: 400,
          body: envelope(
            'InvalidFormat',
            'checksum.sha256 must be a SHA-256 hex digest',
            { path: 'checksum.sha256' },
            path,
          ),
        };
      }
      const entry = this.catalogEntry(url as string);
      const { key } = this.addFetch(
        url as string,
        this.versionFor(url as string),
        !entry?.sha256 || entry.sha256.toLowerCase() === (sha as string).toLowerCase(),
        now,
        false,
      );
      return ok(
        {
          key,
          meta: {
            href: `/api/firmware/fetch/${key}`,
            parent: '/api/firmware',
            slots: '/api/firmware/slots',
            test: '/api/firmware/test',
            upgrade: '/api/firmware/upgrade',
          },
        },
        202,
      );
    }
    // A finished download links the slot it filled (vendor samples), in the list and alone.
    const slotLink = (view: { status: string; slot_id: number | null }) =>
      view.status === 'finished' && view.slot_id !== null ? { slot: `/api/firmware/slots/${view.slot_id}` } : {};
    if (path === '/api/firmware/fetch' && method === 'GET') {
      return ok({
        items: this.fetches
          .filter((f) => !f.removed)
          .map((f) => {
            const view = this.fetchView(f, now);
            return { key: f.key, body: view, meta: { href: `/api/firmware/fetch/${f.key}`, ...slotLink(view) } };
          }),
        meta: {
          href: '/api/firmware/fetch',
          parent: '/api/firmware',
          slots: '/api/firmware/slots',
          test: '/api/firmware/test',
          upgrade: '/api/firmware/upgrade',
        },
      });
    }
    if ((m = /^\/api\/firmware\/fetch\/([^/]+)$/.exec(path))) {
      const job = this.fetches.find((f) => f.key === m![1] && !f.removed);
      if (!job) return notFound('/firmware/fetch', m[1]!);
      if (method === 'GET') {
        const view = this.fetchView(job, now);
        return ok({ key: job.key, body: view, meta: { href: path, parent: '/api/firmware/fetch', ...slotLink(view) } });
      }
      if (method === 'DELETE') {
        // "You can safely cancel running a SPS firmware file download while the status of the
        // download is queued or in-progress. [...] the status information remains in the queue,
        // and can be removed by sending a second DELETE request to the same URL." Finished,
        // failed and canceled downloads: "Remove status information" (vendor page).
        const status = this.fetchView(job, now).status;
        if (status === 'queued' || status === 'in-progress') job.canceledAt = now;
        else job.removed = true;
        return ok({});
      }
    }

    if ((path === '/api/firmware/test' || path === '/api/firmware/upgrade') && method === 'POST') {
      const upgrade = path.endsWith('upgrade');
      const slotId = body?.slot_id;
      const missing = [
        ...(slotId === undefined || slotId === null ? ['slot_id'] : []),
        ...(upgrade && typeof body?.message !== 'string' ? ['message'] : []),
      ];
      if (missing.length) {
        return incomplete(missing, path);
      }
      const slot = this.slots.find((s) => s.key === String(slotId));
      if (!slot || slot.version === undefined)
        return notFound(upgrade ? '/firmware/upgrade' : '/firmware/test', String(slotId));
      if (this.scenario === 'precheck-fails') {
        return {
          kind: 'json',
          status: 400, // inferred: the docs show only the body
          body: envelope(
            'FirmwareTestFailed',
            'The firmware test failed',
            { exit_code: 1, test_summary: 'HA check started\nHA check failed\nStorage check: not enough free space' },
            path,
          ),
        };
      }
      if (upgrade) {
        const startAt = now + 2_000;
        this.reboot = {
          startAt,
          endAt: startAt + this.opts.rebootSeconds * 1000,
          slotKey: slot.key,
          previousSlotKey: this.slots.find((s) => s.current)?.key ?? slot.key,
          reverts: this.scenario === 'upgrade-reverts',
          applied: false,
          sessionsDropped: false,
        };
        for (const s of this.slots) s.afterReboot = s.key === slot.key;
        // upgrade-502: carried out as above, but the web server in front of the API answers 502.
        if (this.scenario === 'upgrade-502') return { kind: 'html', status: 502, title: '502 Bad Gateway' };
      }
      return ok({
        body: { test_summary: 'HA check started\nHA check finished' },
        key: slot.key,
        meta: {
          href: path,
          parent: '/api/firmware',
          slot: `/api/firmware/slots/${slot.key}`,
          ...(upgrade ? {} : { upgrade: '/api/firmware/upgrade' }),
        },
      });
    }

    if (path === '/api/troubleshooting/support-bundle' && method === 'POST') {
      const job: BundleJob = {
        key: randomUUID(),
        createdAt: now,
        generateMs: this.opts.bundleGenerateSeconds * 1000,
        fails: this.scenario === 'bundle-fails',
        downloads: 0,
      };
      this.bundles.push(job);
      const item = {
        key: job.key,
        body: this.bundleView(job, now),
        meta: { href: `/api/troubleshooting/support-bundle/${job.key}`, parent: '/api/troubleshooting' },
      };
      // inferred status: 201
      if (this.opts.bundleCreateResponse === 'key') return ok(item, 201);
      return ok(
        { items: [item], meta: { href: '/api/troubleshooting/support-bundle', parent: '/api/troubleshooting' } },
        201,
      );
    }
    if (path === '/api/troubleshooting/support-bundle' && method === 'GET') {
      return ok({
        items: this.visibleBundles(now).map((b) => ({
          key: b.key,
          body: this.bundleView(b, now),
          meta: { href: `/api/troubleshooting/support-bundle/${b.key}`, parent: '/api/troubleshooting' },
        })),
        meta: { href: '/api/troubleshooting/support-bundle', parent: '/api/troubleshooting' },
      });
    }
    if ((m = /^\/api\/troubleshooting\/support-bundle\/([^/]+)(\/download)?$/.exec(path))) {
      const job = this.visibleBundles(now).find((b) => b.key === m![1]);
      const resource = m[2] ? `${m[1]}/download` : m[1]!;
      if (!job) return notFound('/troubleshooting/support-bundle', resource);
      const view = this.bundleView(job, now);
      if (m[2] && method === 'GET') {
        if (view.status !== 'finished') return notFound('/troubleshooting/support-bundle', resource);
        job.downloads++;
        const truncate = (this.scenario === 'truncated-download' && job.downloads === 1) || this.takeTruncateFault(req);
        return {
          kind: 'download',
          key: job.key,
          fileName: view.file_name!,
          bytes: this.opts.bundleBytes,
          truncateAt: truncate ? Math.floor(this.opts.bundleBytes / 2) : undefined,
        };
      }
      if (!m[2] && method === 'GET') {
        return ok({ key: job.key, body: view, meta: { href: path, parent: '/api/troubleshooting' } });
      }
      if (!m[2] && method === 'DELETE') {
        job.deletedAt = now;
        return ok({});
      }
    }
    const known = /^\/api\/(firmware|troubleshooting|integrated_products)/.test(path);
    return {
      kind: 'json',
      status: known ? 405 : 404,
      body: envelope(
        known ? 'MethodNotAllowed' : 'NotFound',
        known ? 'Method not allowed' : 'The requested object does not exist',
        { path },
        path,
      ),
    };
  }

  private takeTruncateFault(req: SimRequest): boolean {
    const i = this.faults.findIndex(
      (f) =>
        f.kind === 'truncate' &&
        (!f.path || (typeof f.path === 'string' ? req.path === f.path : f.path.test(req.path))),
    );
    if (i < 0) return false;
    const f = this.faults[i]!;
    if (--f.left <= 0) this.faults.splice(i, 1);
    return true;
  }

  private slotItem(s: SlotState) {
    return {
      key: s.key,
      body:
        s.version === undefined
          ? {}
          : {
              version: s.version,
              current: s.current,
              after_reboot: s.afterReboot,
              upgrade_news: null,
              upgrade_notes: `Release notes of ${s.version}`,
            },
      meta: { href: `/api/firmware/slots/${s.key}` },
    };
  }
}
