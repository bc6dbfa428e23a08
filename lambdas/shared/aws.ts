import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  paginateListSecrets,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SESSION_SECRET_PREFIX } from '../operations/catalog';
import { AWS_CLIENT_SETTINGS } from './aws-clients';
import { SecretError } from './credentials';
import type { Deps, Operation, OptionalDep } from './operation';
import { systemClock, type MetricsPort, type SecretStore } from './ports';

/** Secrets Manager behind the SecretStore port. Errors name the secret id, never its value. */
export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client = new SecretsManagerClient({ ...AWS_CLIENT_SETTINGS })) {}

  async get(id: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: id }));
      return out.SecretString;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw secretError(err, id, 'read');
    }
  }

  async put(id: string, value: string, description?: string): Promise<void> {
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw secretError(err, id, 'write');
      try {
        await this.client.send(new CreateSecretCommand({ Name: id, SecretString: value, Description: description }));
      } catch (createErr) {
        // Created meanwhile by another invocation: write this value over it.
        if (!(createErr instanceof ResourceExistsException)) throw secretError(createErr, id, 'create');
        await this.client
          .send(new PutSecretValueCommand({ SecretId: id, SecretString: value }))
          .catch((putErr: unknown) => Promise.reject(secretError(putErr, id, 'write')));
      }
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    try {
      // The `name` filter matches a prefix, ignoring case: keep the exact matches.
      const pages = paginateListSecrets(
        { client: this.client, pageSize: 100 },
        { Filters: [{ Key: 'name', Values: [prefix] }] },
      );
      for await (const page of pages) {
        for (const secret of page.SecretList ?? []) {
          if (secret.Name?.startsWith(prefix)) names.push(secret.Name);
        }
      }
    } catch (err) {
      throw secretError(err, `${prefix}*`, 'list');
    }
    return names.sort();
  }
}

/**
 * What the AWS environment lacks when that is why a call failed before it was sent: no region, or
 * no credentials. Names the SDK's error, never its text beyond these two known cases.
 */
export function awsSetupProblem(err: unknown): string | undefined {
  const { name, message } = (err ?? {}) as { name?: unknown; message?: unknown };
  if (typeof message === 'string' && /^Region is missing/i.test(message)) return 'no AWS region set (AWS_REGION)';
  if (name !== 'CredentialsProviderError') return undefined;
  return typeof message === 'string' && /could not load credentials from any providers/i.test(message)
    ? 'no AWS credentials found'
    : 'the AWS credentials could not be loaded (CredentialsProviderError)';
}

function secretError(err: unknown, id: string, action: string): SecretError {
  const { name = 'Error', code } = err as { name?: string; code?: unknown };
  const denied = name === 'AccessDeniedException' || name === 'AccessDenied';
  // A network failure is a plain Error: its code (ECONNREFUSED, ETIMEDOUT) says what happened.
  const named =
    typeof code === 'string' && /^E[A-Z_]+$/.test(code) ? `Secrets Manager cannot be reached (${code})` : name;
  const why = denied ? `${name} (check the function role and the key policy)` : (awsSetupProblem(err) ?? named);
  return new SecretError(
    denied ? 'Secrets.AccessDenied' : 'Secrets.Unavailable',
    `Cannot ${action} secret "${id}": ${why}`,
  );
}

let deps: Deps | undefined;

/** The AWS wiring, built once per container on first use. */
export function awsDeps(): Deps {
  if (!deps) {
    const logger = new Logger({ serviceName: 'sps-workflows' });
    const secrets = new SecretsManagerStore();
    deps = {
      secrets,
      clock: systemClock,
      metrics,
      sessionSecretPrefix: process.env.SESSION_SECRET_PREFIX ?? SESSION_SECRET_PREFIX,
      credentialsSecretPrefix: process.env.CREDENTIALS_SECRET_PREFIX ?? 'sps/',
      logger: (keys) => {
        const child = logger.createChild();
        child.appendKeys(
          Object.fromEntries(Object.entries(keys).filter(([, v]) => v !== undefined)) as Record<string, string>,
        );
        return {
          debug: (m, a) => child.debug(m, a ?? {}),
          info: (m, a) => child.info(m, a ?? {}),
          warn: (m, a) => child.warn(m, a ?? {}),
          error: (m, a) => child.error(m, a ?? {}),
        };
      },
    };
  }
  return deps;
}

/**
 * A Lambda entry point for an operation; `extra` adds what only this function needs (the archiver's
 * S3 client), so no other bundle carries it. The event is never logged.
 */
export function lambdaHandler<R, N extends OptionalDep>(
  op: Operation<R, N>,
  ...[extra]: [N] extends [never] ? [Partial<Deps>?] : [Required<Pick<Deps, N>> & Partial<Deps>]
): (event: unknown) => Promise<R> {
  let deps: Deps | undefined;
  return (event) => op.run(event, (deps ??= { ...awsDeps(), ...extra }));
}

/**
 * The MetricsPort as CloudWatch Embedded Metric Format: one JSON line per figure on stdout, which
 * the function's own log group turns into metrics (no API call, no VPC endpoint). Written here
 * rather than with Powertools Metrics: that package adds 12 KB to every bundle, past the 400 KB bar.
 * stdout, not `console`: with Lambda's JSON log format the runtime wraps console lines, not stdout.
 */
const metrics: MetricsPort = {
  add(name, unit, value, dimensions = {}) {
    const all = { service: 'sps-workflows', ...dimensions };
    const line = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          { Namespace: 'SpsWorkflows', Dimensions: [Object.keys(all)], Metrics: [{ Name: name, Unit: unit }] },
        ],
      },
      ...all,
      [name]: value,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  },
};
