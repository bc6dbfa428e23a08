import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type * as z from 'zod/mini';
import { SpsAuthenticationError, SpsInvalidResponseError } from '../errors';
import { silentLogger, type LogPort } from '../ports';
import { toApiError } from './errors-map';
import {
  anyBodySchema,
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
  integratedProductsReportSchema,
  healthStatusSchema,
  systemBackupSchema,
  backupEncryptionSchema,
  clusterInterfaceSchema,
  clusterNodeSchema,
  clusterStatusSchema,
  keyListSchema,
  pluginSchema,
  pluginInstancesSchema,
  pluginIntegritySchema,
  supportBundleCreateSchema,
  supportBundleListSchema,
  supportBundleSchema,
} from './schemas';
import { MemorySessionStore, sessionCookie, type SessionStore } from './session';
import { Transport, type Exchange, type TransportOptions } from './transport';

// Everyone imports the client from here; transport and error mapping live beside it.
export { answerLost, toApiError, transportError, upgradeOutcomeUnknown } from './errors-map';
export { DEFAULT_TIMEOUTS, type SpsRetryPolicy, type SpsTimeouts } from './transport';

export interface SpsCredentials {
  username: string;
  password: string;
  /** Sent as `?login_method=` (e.g. `local`) when set. */
  loginMethod?: string;
}

export interface SpsClientOptions extends TransportOptions {
  credentials: SpsCredentials;
  sessions?: SessionStore;
  logger?: LogPort;
}

/** A support bundle download: the body streams; nothing is buffered. */
export interface SpsDownload {
  body: Readable;
  contentLength: number | undefined;
  contentType: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The precheck and the upgrade run on the appliance before it answers: up to this long, which
 * leaves a login's time within their 300 s functions.
 */
export const LONG_CALL_HEADERS_MS = 220_000;

/**
 * The one client for the SPS REST API. It owns sessions (login, reuse, one re-login on 401,
 * shared between concurrent calls) and reads every answer through a schema; the transport below it
 * does retries (idempotent calls only), timeouts and TLS trust, and errors-map.ts the mapping of
 * SPS errors to typed errors.
 */
export class SpsClient {
  private readonly transport: Transport;
  private readonly sessions: SessionStore;
  private readonly log: LogPort;
  private sessionId: string | undefined;
  private sessionLoaded = false;
  private loginInFlight: Promise<string> | undefined;

  constructor(private readonly options: SpsClientOptions) {
    this.log = options.logger ?? silentLogger;
    this.transport = new Transport(options, this.log);
    this.sessions = options.sessions ?? new MemorySessionStore();
  }

  /** Closes the connection pool this client created. */
  close(): Promise<void> {
    return this.transport.close();
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
    const res = await this.transport.send({ method: 'GET', path: `/api/authentication${query}` }, { authorization });
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new SpsAuthenticationError(
        `SPS at ${this.transport.origin} refused the login of user "${username}"${loginMethod ? ` (login method ${loginMethod})` : ''} (${res.statusCode}): check the credentials secret and that the user's group has the REST server privilege`,
      );
    }
    if (res.statusCode >= 300) throw await toApiError(res, 'GET', '/api/authentication');
    await res.body.dump();
    const sessionId = sessionCookie(res.headers['set-cookie']);
    if (!sessionId) {
      throw new SpsAuthenticationError(
        `SPS at ${this.transport.origin} accepted the login but set no session_id cookie (if this persists, compare the appliance's clock with UTC)`,
      );
    }
    // The cookie's expiry is ignored on purpose: appliance clocks drift. A stale session costs one 401.
    this.sessionId = sessionId;
    this.sessionLoaded = true;
    await this.sessions.save(sessionId);
    this.log.debug('sps login', { endpoint: this.transport.origin });
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

  /** `send` with the session cookie; a 401 leads to exactly one re-login and one repeat. */
  private async authed(x: Exchange): Promise<Dispatcher.ResponseData> {
    const session = await this.currentSession();
    const res = await this.transport.send(x, { cookie: `session_id=${session}` });
    if (res.statusCode !== 401) return res;
    await res.body.dump();
    this.log.info('sps session expired, logging in again', { path: x.path });
    const renewed = await this.renewSession(session);
    return this.transport.send(x, { cookie: `session_id=${renewed}` });
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

  // ---- cluster (on the Central Management node) ------------------------------------------------

  listClusterNodes() {
    return this.json({ method: 'GET', path: '/api/cluster/nodes' }, keyListSchema);
  }

  getClusterNode(key: string) {
    return this.json({ method: 'GET', path: `/api/cluster/nodes/${segment(key)}` }, clusterNodeSchema);
  }

  getClusterStatus() {
    return this.json({ method: 'GET', path: '/api/cluster/status' }, clusterStatusSchema);
  }

  // ---- preflight reads (GETs only) ------------------------------------------------------------

  getIntegratedProductsReport() {
    return this.json({ method: 'GET', path: '/api/integrated_products' }, integratedProductsReportSchema);
  }

  getHealthStatus() {
    return this.json({ method: 'GET', path: '/api/health_status' }, healthStatusSchema);
  }

  getSystemBackupPolicy() {
    return this.json({ method: 'GET', path: '/api/configuration/management/system_backup' }, systemBackupSchema);
  }

  getBackupEncryption() {
    return this.json(
      { method: 'GET', path: '/api/configuration/management/exported_configuration_encryption' },
      backupEncryptionSchema,
    );
  }

  getClusterInterface() {
    return this.json({ method: 'GET', path: '/api/configuration/local_services/cluster' }, clusterInterfaceSchema);
  }

  listPlugins(type: string) {
    return this.json({ method: 'GET', path: `/api/configuration/plugins/${segment(type)}` }, keyListSchema);
  }

  getPlugin(type: string, key: string) {
    return this.json(
      { method: 'GET', path: `/api/configuration/plugins/${segment(type)}/${segment(key)}` },
      pluginSchema,
    );
  }

  /** The plugins the AA plugin instances use. */
  listAaPluginInstancePlugins() {
    return this.json({ method: 'GET', path: '/api/configuration/policies/aa_plugin_instances' }, pluginInstancesSchema);
  }

  getPluginIntegrity(type: string, key: string) {
    const query = new URLSearchParams([
      ['key', key],
      ['plugin_type', type],
      ['ops', 'zip_checksum'],
      ['ops', 'zip_content'],
      ['ops', 'unregistered'],
    ]);
    return this.json({ method: 'GET', path: `/api/plugin/integrity?${query}` }, pluginIntegritySchema);
  }
}

// ---- helpers ----------------------------------------------------------------------------------

/** Path segments come from appliance answers and workflow input: never let them change the path. */
function segment(value: string): string {
  return encodeURIComponent(value);
}

/** SPS and public client code send slot ids as JSON numbers; slot keys are numeric strings. */
function slotNumber(slotId: string): number | string {
  return /^\d+$/.test(slotId) ? Number(slotId) : slotId;
}
