import { error, type SimAction, type SimRequest } from './answers';

/* The HTTP rules real appliances enforce before a request reaches its endpoint (NOTES). */

/** 411 to a POST or PUT without `Content-Length` (or a chunked body). */
export function lengthRequired(req: SimRequest): SimAction | undefined {
  const hasLength = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if ((req.method === 'POST' || req.method === 'PUT') && !hasLength) {
    return { kind: 'html', status: 411, title: '411 Length Required' };
  }
  return undefined;
}

/** SPS ≥ 7.5: 403 to a mutating call from a browser-like client that sends no `X-Token`. */
export function tokenRequired(req: SimRequest): SimAction | undefined {
  const mutating = req.method === 'POST' || req.method === 'PUT' || req.method === 'DELETE';
  const ua = String(req.headers['user-agent'] ?? '');
  if (mutating && ua.includes('Mozilla/') && !req.headers['x-token']) {
    return error(
      403,
      'Unauthorized',
      'Browser-like clients must send the X-Token header',
      { path: req.path },
      req.path,
    );
  }
  return undefined;
}

/** The request's JSON body, or the 400 (InvalidFormat) for one that is not JSON or not sent as JSON. */
export function readJson(req: SimRequest): { body: Record<string, unknown> | undefined } | { refused: SimAction } {
  let body: unknown;
  try {
    body = req.body.length ? JSON.parse(req.body.toString('utf8')) : undefined;
  } catch {
    return { refused: error(400, 'InvalidFormat', 'The request body is not valid JSON', {}, req.path) };
  }
  if (
    req.method === 'POST' &&
    req.body.length &&
    !String(req.headers['content-type'] ?? '').startsWith('application/json')
  ) {
    return { refused: error(400, 'InvalidFormat', 'Content-Type must be application/json', {}, req.path) };
  }
  return { body: body as Record<string, unknown> | undefined };
}
