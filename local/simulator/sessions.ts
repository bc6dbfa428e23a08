import { randomBytes } from 'node:crypto';
import { envelope, error, type SimAction, type SimRequest } from './answers';
import { routesOf, type RouteModule } from './router';
import type { Behaviour } from './scenarios';

/* Basic login and `session_id` cookies with an idle timeout (NOTES). */

interface Session {
  lastSeen: number;
  requests: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();
  /** Every session id this appliance ever issued (tests scan outputs for them). */
  readonly issuedIds: string[] = [];

  constructor(
    private readonly account: { username: string; password: string; sessionIdleSeconds: number },
    private readonly behaviour: () => Behaviour,
  ) {}

  get size(): number {
    return this.byId.size;
  }

  /** Ends every session (an expiry, a reboot). */
  clear(): void {
    this.byId.clear();
  }

  /** `GET /api/authentication`: UTF-8 Basic credentials, optionally `login_method=local`. */
  login(req: SimRequest, now: number): SimAction {
    const method = req.query.get('login_method');
    const auth = String(req.headers.authorization ?? '');
    const [user, ...rest] = auth.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')
      : [];
    const ok =
      user === this.account.username &&
      rest.join(':') === this.account.password &&
      (method === null || method === 'local');
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
    this.byId.set(id, { lastSeen: now, requests: 0 });
    this.issuedIds.push(id);
    // The expiry is on the appliance's clock, which may differ from the client's: clients ignore it.
    const expires = new Date(now + 20 * 60_000).toUTCString();
    return {
      kind: 'json',
      status: 200,
      body: { meta: { href: '/api/authentication', parent: '/api' } },
      headers: { 'set-cookie': `session_id=${id}; expires=${expires}; Path=/; HttpOnly` },
    };
  }

  /** The request's session, if its cookie names one that is still valid (each call counts as a request). */
  authenticate(req: SimRequest, now: number): Session | undefined {
    const cookie = String(req.headers.cookie ?? '');
    const id = /(?:^|;\s*)session_id=([0-9a-f]+)/.exec(cookie)?.[1];
    const session = id ? this.byId.get(id) : undefined;
    if (!id || !session) return undefined;
    if (now - session.lastSeen > this.account.sessionIdleSeconds * 1000) {
      this.byId.delete(id);
      return undefined;
    }
    session.requests++;
    const limit = this.behaviour().sessionRequests;
    if (limit !== undefined && session.requests > limit) {
      this.byId.delete(id);
      return undefined;
    }
    session.lastSeen = now;
    return session;
  }
}

/** 401 to a request that needs a session and has none. */
export const unauthenticated = (req: SimRequest): SimAction =>
  error(401, 'Unauthenticated', 'Authentication is required', { path: req.path }, req.path);

const route = routesOf<Sessions>();

export const SESSION_ROUTES: RouteModule<Sessions> = {
  routes: [route('/api/authentication', { public: true, GET: ({ req, now, state }) => state.login(req, now) })],
};
