import * as z from 'zod/mini';
import { nonEmpty } from './zod';
import { NamedError } from './errors';
import { endpointSchema, InputInvalidError, type ApplianceRef, type ApplianceReference } from './input';
import type { SecretStore } from './ports';
import type { SessionStore } from './sps/session';

/**
 * The credentials secret (README, "Appliances and their credentials"): the appliance's registry entry. It binds
 * the credentials to the one `endpoint` they may be sent to; `username` and `password` are the
 * other required fields. A plain `http://` endpoint also needs `"allowPlainHttp": true`.
 */
export const credentialsSchema = z.looseObject({
  endpoint: endpointSchema,
  username: nonEmpty(),
  password: nonEmpty(),
  caCertificate: z.optional(z.string().check(z.includes('-----BEGIN CERTIFICATE-----'))),
  loginMethod: z.optional(nonEmpty()),
  insecureSkipTlsVerify: z.optional(z.boolean()),
  allowPlainHttp: z.optional(z.boolean()),
  cluster: z.optional(nonEmpty()),
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
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))];
    const endpointMissing = (json as { endpoint?: unknown } | null)?.endpoint === undefined;
    throw new SecretError(
      'Secrets.Invalid',
      `Credentials secret "${secretId}" is invalid: check ${fields.join(', ')}${
        endpointMissing
          ? ' (the secret must name the appliance\'s "endpoint", e.g. "https://sps1.example.internal": it binds the credentials to that URL)'
          : ''
      }`,
    );
  }
  const credentials = parsed.data;
  if (new URL(credentials.endpoint).protocol === 'http:' && credentials.allowPlainHttp !== true) {
    throw new SecretError(
      'Secrets.Invalid',
      `Credentials secret "${secretId}" names a plain http:// endpoint: passwords and sessions would travel unencrypted. Use https://, or set "allowPlainHttp": true in the secret (a local simulator)`,
    );
  }
  return credentials;
}

/** `<credentials prefix><name>`, unless the reference names its secret. */
export const credentialsSecretIdOf = (ref: ApplianceReference, prefix: string): string =>
  ref.credentialsSecretId ?? `${prefix}${ref.name}`;

/** Endpoints as users write them: the host's case and a trailing slash do not matter. */
const sameEndpoint = (a: string, b: string): boolean => {
  const [x, y] = [new URL(a), new URL(b)];
  return x.origin === y.origin && x.pathname.replace(/\/+$/, '') === y.pathname.replace(/\/+$/, '');
};

/** An appliance with its credentials secret read: what `resolveAppliance` returns. */
export interface ResolvedAppliance {
  appliance: ApplianceRef;
  credentials: Credentials;
}

/**
 * The appliance as the workflow steps use it: its credentials secret read, and an `endpoint` the
 * reference gives checked against the one the secret names (`Input.Invalid`, before any request).
 */
export async function resolveAppliance(
  secrets: SecretStore,
  ref: ApplianceReference,
  prefix: string,
): Promise<ResolvedAppliance> {
  const credentialsSecretId = credentialsSecretIdOf(ref, prefix);
  const credentials = await readCredentials(secrets, credentialsSecretId);
  if (ref.endpoint !== undefined && !sameEndpoint(ref.endpoint, credentials.endpoint)) {
    throw new InputInvalidError([
      `appliance.endpoint: ${ref.endpoint} is not the endpoint of credentials secret "${credentialsSecretId}" (${credentials.endpoint}): the secret's credentials are only ever sent to its own endpoint; fix the input, or name the appliance alone`,
    ]);
  }
  return { appliance: { name: ref.name, endpoint: credentials.endpoint, credentialsSecretId }, credentials };
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
