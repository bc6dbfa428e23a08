import { Logger } from '@aws-lambda-powertools/logger';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SESSION_SECRET_PREFIX } from '../operations/catalog';
import { SecretError } from './credentials';
import type { Deps, Operation, OptionalDep } from './operation';
import { systemClock, type SecretStore } from './ports';

/** Secrets Manager behind the SecretStore port. Errors name the secret id, never its value. */
export class SecretsManagerStore implements SecretStore {
  constructor(private readonly client = new SecretsManagerClient({})) {}

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
}

function secretError(err: unknown, id: string, action: string): SecretError {
  const name = (err as { name?: string }).name ?? 'Error';
  const denied = name === 'AccessDeniedException' || name === 'AccessDenied';
  return new SecretError(
    denied ? 'Secrets.AccessDenied' : 'Secrets.Unavailable',
    `Cannot ${action} secret "${id}": ${name}${denied ? ' (check the function role and the key policy)' : ''}`,
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
