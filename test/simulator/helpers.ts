import { Agent, request, type Dispatcher } from 'undici';
import type { Simulator } from '../../local/simulator';

/* Plain HTTPS against a simulator (no SPS client in between), trusting only its CA. */

export interface Answer {
  method: string;
  path: string;
  status: number;
  contentType: string | undefined;
  text: string;
}

export const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/**
 * An undici Agent trusting the simulator's CA that writes down every answer it receives (status,
 * content type, body text) while passing it on unchanged: give it to an SpsClient as `dispatcher`
 * to see exactly what the client was answered.
 */
export function recordingAgent(caPem: string): { agent: Agent; dispatcher: Dispatcher; answers: Answer[] } {
  const agent = new Agent({ connect: { ca: caPem } });
  const answers: Answer[] = [];
  const dispatcher = agent.compose((dispatch) => (opts, handler) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let contentType: string | undefined;
    return dispatch(opts, {
      onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
      onRequestUpgrade: (controller, statusCode, headers, socket) =>
        handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
      onResponseStart: (controller, statusCode, headers, statusMessage) => {
        status = statusCode;
        const type = headers['content-type'];
        contentType = Array.isArray(type) ? type[0] : type;
        return handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
      },
      onResponseData: (controller, chunk) => {
        chunks.push(Buffer.from(chunk));
        return handler.onResponseData?.(controller, chunk);
      },
      onResponseEnd: (controller, trailers) => {
        answers.push({
          method: opts.method,
          path: opts.path.split('?')[0]!,
          status,
          contentType,
          text: Buffer.concat(chunks).toString('utf8'),
        });
        return handler.onResponseEnd?.(controller, trailers);
      },
      onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
    });
  });
  return { agent, dispatcher, answers };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Record<string, unknown>;
}

/** One request to a simulated appliance. */
export async function call(
  sim: Simulator,
  dispatcher: Dispatcher,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  name = sim.appliances[0]!.name,
): Promise<Reply> {
  const headers: Record<string, string> = { 'user-agent': 'sps-sim-tests/1.0', ...init.headers };
  if (init.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] ??= String(Buffer.byteLength(init.body));
  } else if (init.method === 'POST') {
    headers['content-length'] ??= '0';
  }
  const res = await request(`${sim.appliance(name).endpoint}${path}`, {
    dispatcher,
    method: (init.method ?? 'GET') as 'GET',
    headers,
    body: init.body,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

/** Logs in with Basic credentials; returns the `session_id=…` cookie pair. */
export async function login(sim: Simulator, dispatcher: Dispatcher, name = sim.appliances[0]!.name): Promise<string> {
  const a = sim.appliance(name);
  const res = await call(
    sim,
    dispatcher,
    '/api/authentication',
    { headers: { authorization: basic(a.username, a.password) } },
    name,
  );
  if (res.status !== 200) throw new Error(`login to ${name} answered ${res.status}`);
  return String(res.headers['set-cookie']).split(';')[0]!;
}
