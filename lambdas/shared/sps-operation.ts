import type * as z from 'zod/mini';
import { resolveAppliance, SecretSessionStore, sessionSecretId, type ResolvedAppliance } from './credentials';
import type { ApplianceRef } from './input';
import {
  invocationLog,
  operation,
  type Deps,
  type Operation,
  type OperationContext,
  type OptionalDep,
  type SpsClients,
} from './operation';
import type { LogPort } from './ports';
import { SpsClient } from './sps/client';

/*
 * Operations that talk to appliances: `ctx.sps(appliance)` is their SPS client. Kept apart from
 * `operation` so that the functions that never call an appliance bundle neither client nor undici.
 */

// One client per appliance and wiring: a warm Lambda keeps its connections and session.
const cache = new WeakMap<Deps, Map<string, Promise<SpsClient>>>();

/** Each log line of a cached client goes to the logger of the invocation that made the call. */ const clientLogger: LogPort =
  {
    debug: (m, a) => invocationLog.getStore()?.debug(m, a),
    info: (m, a) => invocationLog.getStore()?.info(m, a),
    warn: (m, a) => invocationLog.getStore()?.warn(m, a),
    error: (m, a) => invocationLog.getStore()?.error(m, a),
  };

function clientFor(deps: Deps, given: ApplianceRef | ResolvedAppliance): Promise<SpsClient> {
  const resolved = 'credentials' in given ? given : undefined;
  const appliance = resolved?.appliance ?? (given as ApplianceRef);
  let byAppliance = cache.get(deps);
  if (!byAppliance) cache.set(deps, (byAppliance = new Map()));
  const key = JSON.stringify([appliance.name, appliance.endpoint, appliance.credentialsSecretId]);
  let client = byAppliance.get(key);
  if (!client) {
    client = (async () => {
      // The credentials go only to the endpoint their secret names, whatever the step was given.
      const { appliance: bound, credentials } =
        resolved ?? (await resolveAppliance(deps.secrets, appliance, deps.credentialsSecretPrefix));
      return new SpsClient({
        endpoint: bound.endpoint,
        credentials: {
          username: credentials.username,
          password: credentials.password,
          loginMethod: credentials.loginMethod,
        },
        caCertificate: credentials.caCertificate,
        insecureSkipTlsVerify: credentials.insecureSkipTlsVerify,
        sessions: new SecretSessionStore(deps.secrets, sessionSecretId(deps.sessionSecretPrefix, appliance.name)),
        logger: clientLogger,
        ...deps.client,
      });
    })();
    byAppliance.set(key, client);
    // A failed setup (missing secret) or a refused login must re-read the secret next time.
    client.catch(() => byAppliance.delete(key));
  }
  return client;
}

function forgetClient(deps: Deps, appliance: ApplianceRef): void {
  cache.get(deps)?.delete(JSON.stringify([appliance.name, appliance.endpoint, appliance.credentialsSecretId]));
}

const clients: SpsClients = { clientFor, forget: forgetClient };

/** `operation`, with `ctx.sps(appliance)`: the appliance's client (credentials from its secret, session in its session secret). */
export function spsOperation<S extends z.ZodMiniType, R, N extends OptionalDep = never>(
  name: string,
  schema: S,
  fn: (event: z.output<S>, ctx: OperationContext<N>) => Promise<R>,
  needs: readonly N[] = [],
): Operation<R, N> {
  return operation(name, schema, fn, needs, clients);
}
