import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import {
  SpsApiError,
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
import { errorEnvelopeSchema } from './schemas';

/*
 * What went wrong with a call, as one of the typed errors of ../errors.ts: no answer at all
 * (`transportError`), an error answer (`toApiError`), and what a failed call leaves unknown
 * (`answerLost`, `upgradeOutcomeUnknown`).
 */

/** The connection broke after the request went out: a retry may help, and the answer is lost. */
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
/** OpenSSL's complaints about an answer that is not TLS at all: a plain HTTP port. */
const PLAIN_HTTP_ANSWER = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_HTTP_REQUEST',
]);
const ENVELOPE_ERRORS: Record<string, new (init: ConstructorParameters<typeof SpsApiError>[0]) => SpsApiError> = {
  FirmwareTestFailed: SpsPrecheckFailedError,
  ResourceNotFound: SpsNotFoundError,
  NotFound: SpsNotFoundError,
  IncompleteRequestBodyError: SpsIncompleteRequestError,
  Unauthenticated: SpsUnauthenticatedError,
};

/** A connection that dropped once the request was under way (see `RESET_CODES`). */
export function connectionReset(err: unknown): boolean {
  return err instanceof SpsConnectionError && err.code !== undefined && RESET_CODES.has(err.code);
}

/**
 * A call that reached the appliance but whose answer never came back (the connection dropped, or
 * no answer in time): whether the appliance carried it out is unknown.
 */
export function answerLost(err: unknown): boolean {
  if (err instanceof SpsRequestTimeoutError) return err.phase !== 'connect';
  return connectionReset(err);
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

function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = e?.code ?? e?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * `host:port` a failed connection was aimed at, from Node's error (an `AggregateError` when every
 * address of a name refused) or undici's socket details; never anything of the request itself.
 */
function peerOf(err: unknown): string | undefined {
  type Peer = { address?: unknown; port?: unknown; socket?: { remoteAddress?: unknown; remotePort?: unknown } };
  const e = err as (Peer & { errors?: Peer[]; cause?: Peer }) | undefined;
  const first = [e, e?.errors?.[0], e?.cause].find((x) => typeof x?.address === 'string' || x?.socket?.remoteAddress);
  const address = first?.address ?? first?.socket?.remoteAddress;
  const port = first?.port ?? first?.socket?.remotePort;
  if (typeof address !== 'string') return undefined;
  const host = address.includes(':') ? `[${address}]` : address;
  return typeof port === 'number' ? `${host}:${port}` : host;
}

/** A TLS record (handshake or alert, TLS 1.0-1.3) where an HTTP answer was expected. */
function answeredInTls(err: unknown): boolean {
  const e = err as { name?: unknown; data?: unknown } | undefined;
  if (e?.name !== 'HTTPParserError' || typeof e.data !== 'string') return false;
  const [type, major, minor] = [0, 1, 2].map((i) => (e.data as string).charCodeAt(i));
  return (type === 0x15 || type === 0x16) && major === 0x03 && minor! >= 0x01 && minor! <= 0x04;
}

/** What a refused, dropped or unresolved connection means, in words that say what to check. */
function connectionProblem(err: unknown, code: string): string {
  const peer = peerOf(err);
  const host = (err as { hostname?: unknown } | undefined)?.hostname;
  switch (code) {
    case 'ECONNREFUSED':
      return `nothing listens on ${peer ?? 'the endpoint'} (ECONNREFUSED): check the endpoint's host and port, and that the appliance (or the simulator) is running`;
    case 'ENOTFOUND':
      return `the host name ${typeof host === 'string' ? `${host} ` : ''}is not known (ENOTFOUND): check the endpoint`;
    case 'EAI_AGAIN':
      return `the host name ${typeof host === 'string' ? `${host} ` : ''}could not be looked up for now (EAI_AGAIN)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to ${peer ?? 'the endpoint'} (${code})`;
    default: {
      // An HTTPS port asked in plain HTTP closes without a byte; so may an appliance going down.
      const read = (err as { socket?: { bytesRead?: unknown } } | undefined)?.socket?.bytesRead;
      if (code === 'UND_ERR_SOCKET' && read === 0) {
        return `${peer ?? 'the appliance'} closed the connection without answering (UND_ERR_SOCKET): if the endpoint is http://, the appliance speaks HTTPS there: use https://`;
      }
      return `connection to ${peer ?? 'the appliance'} failed (${code})`;
    }
  }
}

/** Turns an undici/Node failure into a typed error. Only the code, the peer address and Node's own text survive. */
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
    const problem =
      code && PLAIN_HTTP_ANSWER.has(code)
        ? `the endpoint answered without TLS (${code}): that port speaks plain HTTP, or it is not the appliance's HTTPS port`
        : `TLS verification failed (${code}): ${TLS_ADVICE[reason]}`;
    return new SpsTlsError(reason, `${what}: ${problem}`, code);
  }
  if (code && CONNECTION_CODES.has(code)) {
    return new SpsConnectionError(`${what}: ${connectionProblem(err, code)}`, code);
  }
  if (err instanceof Error && err.name === 'AbortError') return err;
  if (answeredInTls(err)) {
    return new SpsConnectionError(
      `${what}: the appliance answered in TLS: it speaks HTTPS on ${peerOf(err) ?? 'that port'}: use https:// in the endpoint`,
      code,
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SpsConnectionError(`${what}: request failed${code ? ` (${code})` : ''}: ${message}`, code);
}

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
