/* What a simulated appliance is asked and what it answers, and the SPS error envelope. */

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

export const envelope = (type: string, message: string, details: unknown, href: string) => ({
  error: { type, message, details },
  meta: { href, parent: href.replace(/\/[^/]*$/, '') || '/api' },
});

/** A JSON error answer in the SPS envelope. */
export const error = (status: number, type: string, message: string, details: unknown, href: string): SimAction => ({
  kind: 'json',
  status,
  body: envelope(type, message, details, href),
});

/** 404 NotFound ("The requested object does not exist"), naming the path: no such endpoint or object. */
export const unknownPath = (path: string): SimAction =>
  error(404, 'NotFound', 'The requested object does not exist', { path }, path);

/** `IncompleteRequestBodyError` naming the missing body fields (vendor sample). */
export const incomplete = (missing: string[], path: string): SimAction =>
  error(
    400,
    'IncompleteRequestBodyError',
    'Some paths were missing from the request body',
    { missing_paths: missing },
    path,
  );

/** The page the web server in front of the API answers with while the appliance boots (or a fault). */
export const serviceUnavailable: SimAction = { kind: 'html', status: 503, title: '503 Service Unavailable' };

/** A date-time as the vendor samples write it: `2024-05-01T10:00:00+00:00`. */
export const isoSeconds = (ms: number) => new Date(ms).toISOString().replace('Z', '+00:00').replace(/\.\d+/, '');
