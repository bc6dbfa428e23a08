import { rootCertificates } from 'node:tls';
import type { Readable } from 'node:stream';
import { backOff } from 'exponential-backoff';
import type { Dispatcher } from 'undici';
// undici's entry point loads fetch, WebSocket, caches and mocks (about 500 KB bundled): take only
// the connection pool and the request API (the same modules the entry point re-exports).
import Agent from 'undici/lib/dispatcher/agent';
import requestApi from 'undici/lib/api/api-request';
import type * as z from 'zod/mini';
import {
  SpsApiError,
  SpsAuthenticationError,
  SpsConnectionError,
  SpsForbiddenError,
  SpsIncompleteRequestError,
  SpsInvalidResponseError,
  SpsNotFoundError,
  SpsPrecheckFailedError,
  SpsRequestTimeoutError,
  SpsServerError,
  SpsTlsError,
  SpsUnauthenticatedError,
  type SpsErrorEnvelope,
} from '../errors';
import { USER_AGENT } from '../version';
import {
  anyBodySchema,
  errorEnvelopeSchema,
  firmwareEndpointsSchema,
  firmwareFetchListSchema,
  firmwareFetchSchema,
  firmwareFetchStartSchema,
  firmwareSlotSchema,
  firmwareSlotsSchema,
  firmwareTestSchema,
  firmwareUpgradeSchema,
  infoSchema,
  integratedProductsSchema,
  supportBundleCreateSchema,
  supportBundleListSchema,
  supportBundleSchema,
} from './schemas';
import { silentLogger, type LogPort } from '../ports';
import { MemorySessionStore, type SessionStore } from './session';

export interface SpsCredentials {
  username: string;
  password: string;
  /** Sent as `?login_method=` (e.g. `local`) when set. */
  loginMethod?: string;
}

export interface SpsTimeouts {
  connectMs: number;
  /** Until the response headers arrive (an appliance may think for a while on /firmware/test). */
  headersMs: number;
  /** Longest silence between two chunks of a response body. */
  bodyMs: number;
}

export interface SpsRetryPolicy {
  /** Total attempts of an idempotent call (GET, DELETE), the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface SpsClientOptions {
  /** Base URL of the appliance, without `/api`. */
  endpoint: string;
  credentials: SpsCredentials;
  /** PEM of the appliance's CA, trusted in addition to the public roots. */
  caCertificate?: string;
  /** Turns certificate verification off. Never the default; logs a warning. */
  insecureSkipTlsVerify?: boolean;
  sessions?: SessionStore;
  logger?: LogPort;
  timeouts?: Partial<SpsTimeouts>;
  retry?: Partial<SpsRetryPolicy>;
  /** Replaces the TLS-aware connection pool (unit tests pass an undici MockAgent). */
  dispatcher?: Dispatcher;
}

export const DEFAULT_TIMEOUTS: SpsTimeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 };
export const DEFAULT_RETRY: SpsRetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 2_000 };

/** A support bundle download: the body streams; nothing is buffered. */
export interface SpsDownload {
  body: Readable;
  contentLength: number | undefined;
  contentType: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

type Method = 'GET' | 'POST' | 'DELETE';

interface Exchange {
  method: Method;
  path: string;
  body?: unknown;
  accept?: string;
  /** Replaces the headers timeout for a call the appliance works on before it answers. */
  headersMs?: number;
}

/**
 * The precheck and the upgrade run on the appliance before it answers: up to this long, which
 * leaves a login's time within their 300 s functions.
 */
export const LONG_CALL_HEADERS_MS = 220_000;

const IDEMPOTENT: ReadonlySet<Method> = new Set(['GET', 'DELETE']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);
const CONNECTION_CODES = new Set([
  ...RESET_CODES,
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const TLS_REASONS: Record<string, SpsTlsError['reason']> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'untrusted-issuer',
  UNABLE_TO_GET_ISSUER_CERT: 'untrusted-issuer',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'untrusted-issuer',
  SELF_SIGNED_CERT_IN_CHAIN: 'untrusted-issuer',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'untrusted-issuer',
  CERT_SIGNATURE_FAILURE: 'untrusted-issuer',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname-mismatch',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
};
const TLS_ADVICE: Record<SpsTlsError['reason'], string> = {
  'untrusted-issuer': 'its certificate is not signed by a trusted CA: put the appliance CA (PEM) in caCertificate',
  'hostname-mismatch':
    "the endpoint's host name is not in its certificate: use the name the certificate was issued for",
  expired: 'its certificate has expired',
  'not-yet-valid': 'its certificate is not valid yet (check the clocks)',
  other: 'the TLS handshake failed',
};

/**
 * The one client for the SPS REST API. It owns sessions (login, reuse, one re-login on 401,
 * shared between concurrent calls), retries (idempotent calls only), timeouts, TLS trust and
 * the mapping of SPS errors to typed errors.
 */
export class SpsClient {
  private readonly base: string;
  private readonly basePath: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly sessions: SessionStore;
  private readonly log: LogPort;
  private readonly retry: SpsRetryPolicy;
  private sessionId: string | undefined;
  private sessionLoaded = false;
  private loginInFlight: Promise<string> | undefined;

  constructor(private readonly options: SpsClientOptions) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`endpoint must be an http(s) URL, got ${url.protocol}`);
    }
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.base = url.origin;
    this.sessions = options.sessions ?? new MemorySessionStore();
    this.log = options.logger ?? silentLogger;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (options.insecureSkipTlsVerify) {
      this.log.warn('TLS certificate verification is OFF for this appliance (insecureSkipTlsVerify)', {
        endpoint: this.base,
      });
    }
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? createDispatcher(options);
  }

  /** Closes the connection pool this client created. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  // ---- sessions -------------------------------------------------------------------------------

  /** Logs in now (`GET /api/authentication`) and stores the new session. */
  login(): Promise<string> {
    this.loginInFlight ??= this.doLogin().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  private async doLogin(): Promise<string> {
    const { username, password, loginMethod } = this.options.credentials;
    const query = loginMethod ? `?login_method=${encodeURIComponent(loginMethod)}` : '';
    const authorization = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
    const res = await this.send({ method: 'GET', path: `/api/authentication${query}` }, { authorization });
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new SpsAuthenticationError(
        `SPS at ${this.base} refused the login of user "${username}"${loginMethod ? ` (login method ${loginMethod})` : ''} (${res.statusCode}): check the credentials secret and that the user's group has the REST server privilege`,
      );
    }
    if (res.statusCode >= 300) throw await toApiError(res, 'GET', '/api/authentication');
    await res.body.dump();
    const sessionId = sessionCookie(res.headers['set-cookie']);
    if (!sessionId) {
      throw new SpsAuthenticationError(
        `SPS at ${this.base} accepted the login but set no session_id cookie (if this persists, compare the appliance's clock with UTC)`,
      );
    }
    // The cookie's expiry is ignored on purpose: appliance clocks drift. A stale session costs one 401.
    this.sessionId = sessionId;
    this.sessionLoaded = true;
    await this.sessions.save(sessionId);
    this.log.debug('sps login', { endpoint: this.base });
    return sessionId;
  }

  private async currentSession(): Promise<string> {
    if (!this.sessionLoaded) {
      this.sessionId ??= await this.sessions.load();
      this.sessionLoaded = true;
    }
    return this.sessionId ?? this.login();
  }

  /** After a 401 with `stale`: reuse a session another call already got, else log in (once for all). */
  private async renewSession(stale: string): Promise<string> {
    if (this.sessionId && this.sessionId !== stale) return this.sessionId;
    return this.login();
  }

  // ---- transport ------------------------------------------------------------------------------

  /** One HTTP exchange, with jittered exponential retries for idempotent calls only. */
  private async send(x: Exchange, extraHeaders: Record<string, string> = {}): Promise<Dispatcher.ResponseData> {
    const headers: Record<string, string> = {
      'user-agent': USER_AGENT,
      accept: x.accept ?? 'application/json',
      ...extraHeaders,
    };
    let body: string | undefined;
    if (x.body !== undefined) {
      body = JSON.stringify(x.body);
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    } else if (x.method === 'POST') {
      headers['content-length'] = '0'; // SPS answers 411 to a body-less POST without it
    }
    const path = x.path.split('?')[0]!;
    const idempotent = IDEMPOTENT.has(x.method);
    let attempt = 0;
    return backOff(
      async () => {
        attempt += 1;
        const started = Date.now();
        let res: Dispatcher.ResponseData;
        try {
          res = await requestApi.call(this.dispatcher, {
            origin: this.base,
            path: this.basePath + x.path,
            method: x.method,
            headers,
            body,
            headersTimeout: x.headersMs,
          });
        } catch (err) {
          throw transportError(err, x.method, path);
        }
        this.log.debug('sps request', {
          method: x.method,
          path,
          status: res.statusCode,
          attempt,
          ms: Date.now() - started,
        });
        if (res.statusCode === 429 || res.statusCode >= 500) throw await toApiError(res, x.method, path);
        return res;
      },
      {
        numOfAttempts: idempotent ? this.retry.attempts : 1,
        startingDelay: this.retry.baseDelayMs,
        maxDelay: this.retry.maxDelayMs,
        jitter: 'full',
        retry: (err: unknown, next: number) => {
          const retryable = isRetryable(err);
          if (retryable)
            this.log.warn('sps request retried', { method: x.method, path, attempt: next, error: errorName(err) });
          return retryable;
        },
      },
    );
  }

  /** `send` with the session cookie; a 401 leads to exactly one re-login and one repeat. */
  private async authed(x: Exchange): Promise<Dispatcher.ResponseData> {
    const session = await this.currentSession();
    const res = await this.send(x, { cookie: `session_id=${session}` });
    if (res.statusCode !== 401) return res;
    await res.body.dump();
    this.log.info('sps session expired, logging in again', { path: x.path });
    const renewed = await this.renewSession(session);
    return this.send(x, { cookie: `session_id=${renewed}` });
  }

  private async json<T>(x: Exchange, schema: z.ZodMiniType<T>): Promise<T> {
    const res = await this.authed(x);
    if (res.statusCode >= 300) throw await toApiError(res, x.method, x.path);
    const text = await res.body.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      throw new SpsInvalidResponseError(
        `${x.method} ${x.path} answered ${res.statusCode} with a body that is not JSON`,
      );
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const where = parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new SpsInvalidResponseError(`${x.method} ${x.path} answered with an unexpected body: ${where}`);
    }
    return parsed.data;
  }

  // ---- operations -----------------------------------------------------------------------------

  /**
   * `GET /api/info` with a session. SPS answers a caller without a valid session (expired, or ended
   * by a reboot) with its anonymous view instead of a 401: no `firmware_version`. That answer means
   * "not logged in", so it leads to one fresh login and one more read, like a 401. `firmwareVersion`
   * is still missing only when the appliance withholds it from a logged-in caller too.
   */
  async getInfo() {
    const info = await this.json({ method: 'GET', path: '/api/info' }, infoSchema);
    if (info.firmwareVersion !== undefined) return info;
    this.log.info('sps /api/info answered the anonymous view, logging in again', { path: '/api/info' });
    await this.login();
    return this.json({ method: 'GET', path: '/api/info' }, infoSchema);
  }

  /** `GET /api/info` without a session: answers while the appliance is up, even before a login works. */
  async getPublicInfo() {
    const res = await this.send({ method: 'GET', path: '/api/info' });
    if (res.statusCode >= 300) throw await toApiError(res, 'GET', '/api/info');
    return infoSchema.parse(await res.body.json());
  }

  /** `GET /api/firmware`: the firmware endpoints this appliance offers (fetch, slots, test, upgrade). */
  listFirmwareEndpoints() {
    return this.json({ method: 'GET', path: '/api/firmware' }, firmwareEndpointsSchema);
  }

  listFirmwareSlots() {
    return this.json({ method: 'GET', path: '/api/firmware/slots' }, firmwareSlotsSchema);
  }

  getFirmwareSlot(slotId: string) {
    return this.json({ method: 'GET', path: `/api/firmware/slots/${segment(slotId)}` }, firmwareSlotSchema);
  }

  /** Refused by SPS for the current and the after-reboot slot. */
  async deleteFirmwareSlot(slotId: string): Promise<void> {
    await this.json({ method: 'DELETE', path: `/api/firmware/slots/${segment(slotId)}` }, anyBodySchema);
  }

  listFirmwareFetches() {
    return this.json({ method: 'GET', path: '/api/firmware/fetch' }, firmwareFetchListSchema);
  }

  getFirmwareFetch(key: string) {
    return this.json({ method: 'GET', path: `/api/firmware/fetch/${segment(key)}` }, firmwareFetchSchema);
  }

  /** `POST /api/firmware/fetch` (202): the appliance downloads the ISO itself. Returns the job key. */
  startFirmwareFetch(url: string, sha256: string) {
    return this.json(
      { method: 'POST', path: '/api/firmware/fetch', body: { url, checksum: { sha256 } } },
      firmwareFetchStartSchema,
    );
  }

  /** Cancels a queued or running fetch; on a finished, failed or canceled one it removes the record. */
  async deleteFirmwareFetch(key: string): Promise<void> {
    await this.json({ method: 'DELETE', path: `/api/firmware/fetch/${segment(key)}` }, anyBodySchema);
  }

  /** The precheck. A failing test throws `SpsPrecheckFailedError` with the appliance's `test_summary`. */
  testFirmware(slotId: string) {
    return this.json(
      {
        method: 'POST',
        path: '/api/firmware/test',
        body: { slot_id: slotNumber(slotId) },
        headersMs: LONG_CALL_HEADERS_MS,
      },
      firmwareTestSchema,
    );
  }

  /**
   * Starts the upgrade into `slotId`; the appliance reboots afterwards. Its success body is not
   * documented: any JSON answer is taken as accepted (see `upgradeOutcomeUnknown` for the rest).
   */
  upgradeFirmware(slotId: string, message: string) {
    return this.json(
      {
        method: 'POST',
        path: '/api/firmware/upgrade',
        body: { slot_id: slotNumber(slotId), message },
        headersMs: LONG_CALL_HEADERS_MS,
      },
      firmwareUpgradeSchema,
    );
  }

  listSupportBundles() {
    return this.json({ method: 'GET', path: '/api/troubleshooting/support-bundle' }, supportBundleListSchema);
  }

  getSupportBundle(key: string) {
    return this.json(
      { method: 'GET', path: `/api/troubleshooting/support-bundle/${segment(key)}` },
      supportBundleSchema,
    );
  }

  /** Starts a bundle job (queued behind any running one) and returns the key SPS answered with. */
  createSupportBundle() {
    return this.json({ method: 'POST', path: '/api/troubleshooting/support-bundle' }, supportBundleCreateSchema);
  }

  /** Removes a bundle, or cancels its generation while it runs. */
  async deleteSupportBundle(key: string): Promise<void> {
    await this.json({ method: 'DELETE', path: `/api/troubleshooting/support-bundle/${segment(key)}` }, anyBodySchema);
  }

  /** Streams a finished bundle. The caller must consume or destroy `body`. */
  async downloadSupportBundle(key: string): Promise<SpsDownload> {
    const path = `/api/troubleshooting/support-bundle/${segment(key)}/download`;
    const res = await this.authed({
      method: 'GET',
      path,
      accept: 'application/octet-stream, application/zip, application/json',
    });
    if (res.statusCode !== 200) throw await toApiError(res, 'GET', path);
    const length = Number(res.headers['content-length']);
    const type = res.headers['content-type'];
    return {
      body: res.body,
      contentLength: Number.isFinite(length) ? length : undefined,
      contentType: Array.isArray(type) ? type[0] : type,
      headers: res.headers,
    };
  }

  getIntegratedProducts() {
    return this.json({ method: 'GET', path: '/api/integrated_products' }, integratedProductsSchema);
  }
}

// ---- helpers ----------------------------------------------------------------------------------

function createDispatcher(options: SpsClientOptions): Dispatcher {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  return new Agent({
    connect: {
      // Passing `ca` replaces Node's default roots, so keep them and add the appliance CA.
      ca: options.caCertificate ? [...rootCertificates, options.caCertificate] : undefined,
      rejectUnauthorized: !options.insecureSkipTlsVerify,
      timeout: timeouts.connectMs,
    },
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  });
}

/** Path segments come from appliance answers and workflow input: never let them change the path. */
function segment(value: string): string {
  return encodeURIComponent(value);
}

/** SPS and public client code send slot ids as JSON numbers; slot keys are numeric strings. */
function slotNumber(slotId: string): number | string {
  return /^\d+$/.test(slotId) ? Number(slotId) : slotId;
}

/** The `session_id` value of the Set-Cookie headers; its attributes (expiry included) are ignored. */
function sessionCookie(header: string | string[] | undefined): string | undefined {
  for (const cookie of Array.isArray(header) ? header : header ? [header] : []) {
    const pair = cookie.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === 'session_id')
      return (
        pair
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1') || undefined
      );
  }
  return undefined;
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

/**
 * A call that reached the appliance but whose answer never came back (the connection dropped, or
 * no answer in time): whether the appliance carried it out is unknown.
 */
export function answerLost(err: unknown): boolean {
  if (err instanceof SpsRequestTimeoutError) return err.phase !== 'connect';
  return err instanceof SpsConnectionError && err.code !== undefined && RESET_CODES.has(err.code);
}

/**
 * After a POST that may start something irreversible (the upgrade): whether the appliance may have
 * carried it out although no SPS answer says so. The answer was lost, or it came from something
 * other than the SPS API (a gateway's 502/503/504, an HTML page, a 2xx body that is not JSON), as
 * an appliance going down answers. Only the API's own error envelope (`error.type`) says it refused.
 */
export function upgradeOutcomeUnknown(err: unknown): boolean {
  if (answerLost(err) || err instanceof SpsInvalidResponseError) return true;
  return err instanceof SpsApiError && err.type === undefined && err.status >= 500;
}

function isRetryable(err: unknown): boolean {
  if (err instanceof SpsServerError) return true;
  return err instanceof SpsConnectionError && err.code !== undefined && RESET_CODES.has(err.code);
}

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Turns an undici/Node failure into a typed error. Only the code and Node's own text survive. */
export function transportError(err: unknown, method: string, path: string): Error {
  const code = codeOf(err);
  const what = `${method} ${path}`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new SpsRequestTimeoutError('connect', `${what}: connect timed out`);
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return new SpsRequestTimeoutError('headers', `${what}: no response headers in time`);
  if (code === 'UND_ERR_BODY_TIMEOUT') return new SpsRequestTimeoutError('body', `${what}: response body stalled`);
  const tlsReason = code ? TLS_REASONS[code] : undefined;
  if (tlsReason || (code?.startsWith('ERR_TLS_') ?? false) || code?.startsWith('ERR_SSL_')) {
    const reason = tlsReason ?? 'other';
    return new SpsTlsError(reason, `${what}: TLS verification failed (${code}): ${TLS_ADVICE[reason]}`, code);
  }
  if (code && CONNECTION_CODES.has(code)) return new SpsConnectionError(`${what}: connection failed (${code})`, code);
  if (err instanceof Error && err.name === 'AbortError') return err;
  const message = err instanceof Error ? err.message : String(err);
  return new SpsConnectionError(`${what}: request failed${code ? ` (${code})` : ''}: ${message}`, code);
}

const ENVELOPE_ERRORS: Record<string, new (init: ConstructorParameters<typeof SpsApiError>[0]) => SpsApiError> = {
  FirmwareTestFailed: SpsPrecheckFailedError,
  ResourceNotFound: SpsNotFoundError,
  NotFound: SpsNotFoundError,
  IncompleteRequestBodyError: SpsIncompleteRequestError,
  Unauthenticated: SpsUnauthenticatedError,
};

/** Maps an error answer (JSON envelope or not) to a typed error; reads at most 64 KiB of it. */
export async function toApiError(res: Dispatcher.ResponseData, method: string, path: string): Promise<SpsApiError> {
  const status = res.statusCode;
  const raw = await readCapped(res.body, 64 * 1024);
  let envelope: SpsErrorEnvelope | undefined;
  try {
    const parsed = errorEnvelopeSchema.safeParse(JSON.parse(raw));
    if (parsed.success) envelope = parsed.data.error;
  } catch {
    // not JSON: an HTML error page from the web server in front of the API, for example
  }
  const init = { status, method, path: path.split('?')[0]!, envelope, text: envelope ? undefined : summarize(raw) };
  const byType = envelope ? ENVELOPE_ERRORS[envelope.type] : undefined;
  if (byType) return new byType(init);
  if (status === 401) return new SpsUnauthenticatedError(init);
  if (status === 403) return new SpsForbiddenError(init);
  if (status === 404) return new SpsNotFoundError(init);
  if (status === 429 || status >= 500) return new SpsServerError(init);
  return new SpsApiError(init);
}

async function readCapped(body: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer;
      chunks.push(buf);
      size += buf.length;
      if (size >= limit) break;
    }
  } catch {
    // a broken error body still yields a typed error
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, limit).toString('utf8');
}

/** A short, single-line text of a non-JSON error body (HTML tags removed). */
function summarize(raw: string): string | undefined {
  const text = raw
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text ? text.slice(0, 200) : undefined;
}
