import { rootCertificates } from 'node:tls';
import { backOff } from 'exponential-backoff';
import type { Dispatcher } from 'undici';
// undici's entry point loads fetch, WebSocket, caches and mocks, and esbuild cannot tree-shake its
// CommonJS: it would take every handler past its bundle-size bar (`npm run bench -- --only
// coldstart`). Take only the connection pool and the request API, the modules the entry re-exports.
import Agent from 'undici/lib/dispatcher/agent';
import requestApi from 'undici/lib/api/api-request';
import { SpsServerError } from '../errors';
import type { LogPort } from '../ports';
import { USER_AGENT } from '../version';
import { connectionReset, toApiError, transportError } from './errors-map';

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

export const DEFAULT_TIMEOUTS: SpsTimeouts = { connectMs: 10_000, headersMs: 60_000, bodyMs: 60_000 };
const DEFAULT_RETRY: SpsRetryPolicy = { attempts: 3, baseDelayMs: 250, maxDelayMs: 2_000 };

/** How the client reaches one appliance: where, whom to trust, how long to wait, how often to try. */
export interface TransportOptions {
  /** Base URL of the appliance, without `/api`. */
  endpoint: string;
  /** PEM of the appliance's CA, trusted in addition to the public roots. */
  caCertificate?: string;
  /** Turns certificate verification off. Never the default; logs a warning. */
  insecureSkipTlsVerify?: boolean;
  timeouts?: Partial<SpsTimeouts>;
  retry?: Partial<SpsRetryPolicy>;
  /** Replaces the TLS-aware connection pool (unit tests pass an undici MockAgent). */
  dispatcher?: Dispatcher;
}

type Method = 'GET' | 'POST' | 'DELETE';

export interface Exchange {
  method: Method;
  path: string;
  body?: unknown;
  accept?: string;
  /** Replaces the headers timeout for a call the appliance works on before it answers. */
  headersMs?: number;
}

// A POST may have started something on the appliance before its answer was lost: never repeat it.
const IDEMPOTENT: ReadonlySet<Method> = new Set(['GET', 'DELETE']);

/** HTTP exchanges with one appliance: headers, TLS trust, timeouts and retries. Knows nothing of sessions. */
export class Transport {
  /** The appliance's origin (scheme, host, port), for messages and logs. */
  readonly origin: string;
  private readonly basePath: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly retry: SpsRetryPolicy;

  constructor(
    options: TransportOptions,
    private readonly log: LogPort,
  ) {
    const url = new URL(options.endpoint);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TypeError(`endpoint must be an http(s) URL, got ${url.protocol}`);
    }
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.origin = url.origin;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (options.insecureSkipTlsVerify) {
      this.log.warn('TLS certificate verification is OFF for this appliance (insecureSkipTlsVerify)', {
        endpoint: this.origin,
      });
    }
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? createDispatcher(options);
  }

  /** Closes the connection pool this transport created (a dispatcher passed in stays open). */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  /** One HTTP exchange, with jittered exponential retries for idempotent calls only. */
  async send(x: Exchange, extraHeaders: Record<string, string> = {}): Promise<Dispatcher.ResponseData> {
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
            origin: this.origin,
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
          const retryable = err instanceof SpsServerError || connectionReset(err);
          if (retryable)
            this.log.warn('sps request retried', { method: x.method, path, attempt: next, error: errorName(err) });
          return retryable;
        },
      },
    );
  }
}

function createDispatcher(options: TransportOptions): Dispatcher {
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

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
