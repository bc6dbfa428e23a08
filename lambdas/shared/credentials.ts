import * as z from 'zod/mini';
import { nonEmpty } from './zod';
import { NamedError } from './errors';
import type { SecretStore } from './ports';
import type { SessionStore } from './sps/session';

/** The credentials secret (DESIGN.md): only username and password are required. */
export const credentialsSchema = z.looseObject({
  username: nonEmpty(),
  password: nonEmpty(),
  caCertificate: z.optional(z.string().check(z.includes('-----BEGIN CERTIFICATE-----'))),
  loginMethod: z.optional(nonEmpty()),
  insecureSkipTlsVerify: z.optional(z.boolean()),
});
export type Credentials = z.output<typeof credentialsSchema>;

/** The credentials secret is missing, unreadable or malformed. Never carries the secret's value. */
export class SecretError extends NamedError {}

export async function readCredentials(secrets: SecretStore, secretId: string): Promise<Credentials> {
  const raw = await secrets.get(secretId);
  if (raw === undefined) throw new SecretError('Secrets.NotFound', `Credentials secret "${secretId}" does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new SecretError('Secrets.Invalid', `Credentials secret "${secretId}" is not JSON`);
  }
  const parsed = credentialsSchema.safeParse(json);
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new SecretError('Secrets.Invalid', `Credentials secret "${secretId}" is invalid: check ${fields}`);
  }
  return parsed.data;
}

/** The session secret of an appliance: `<prefix><appliance name>`. Only this id travels in state. */
export function sessionSecretId(prefix: string, applianceName: string): string {
  return `${prefix}${applianceName}`;
}

/** Keeps the SPS session id in a secret so the next invocation, in any function, reuses it. */
export class SecretSessionStore implements SessionStore {
  constructor(
    private readonly secrets: SecretStore,
    private readonly secretId: string,
  ) {}

  async load(): Promise<string | undefined> {
    const raw = await this.secrets.get(this.secretId);
    if (!raw) return undefined;
    try {
      const value = (JSON.parse(raw) as { sessionId?: unknown }).sessionId;
      return typeof value === 'string' && value ? value : undefined;
    } catch {
      return undefined; // unreadable: log in again and overwrite it
    }
  }

  async save(sessionId: string): Promise<void> {
    await this.secrets.put(
      this.secretId,
      JSON.stringify({ sessionId }),
      'SPS REST session cookie, written by sps-workflows. Safe to delete: the next call logs in again.',
    );
  }
}
