/**
 * Where an SPS session id lives between calls. The client reads it before its first call and
 * writes every new one after a login, so a handler can keep it in Secrets Manager and the next
 * invocation (a different Lambda, minutes later) reuses the same appliance session.
 */
export interface SessionStore {
  load(): Promise<string | undefined>;
  save(sessionId: string): Promise<void>;
}

/** Keeps the session for the life of the process: the default, and what tests use. */
export class MemorySessionStore implements SessionStore {
  private sessionId: string | undefined;

  constructor(initial?: string) {
    this.sessionId = initial;
  }

  async load(): Promise<string | undefined> {
    return this.sessionId;
  }

  async save(sessionId: string): Promise<void> {
    this.sessionId = sessionId;
  }
}

/** The `session_id` value of the Set-Cookie headers; its attributes (expiry included) are ignored. */
export function sessionCookie(header: string | string[] | undefined): string | undefined {
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
