import { AsyncLocalStorage } from 'node:async_hooks';
import type { S3Client } from '@aws-sdk/client-s3';
import type * as z from 'zod/mini';
import { sessionSecretId, type ResolvedAppliance } from './credentials';
import { errorText, isContractError, NamedError, SpsAuthenticationError } from './errors';
import type { ApplianceRef } from './input';
import { parseInput } from './input';
import type { Clock, LockStore, LogPort, MetricsPort, SecretStore } from './ports';
import type { SpsClient, SpsClientOptions } from './sps/client';

/** What a handler needs from the outside world; AWS and local wiring each build one. */
export interface Deps {
  secrets: SecretStore;
  clock: Clock;
  /** A logger for one invocation, bound to these keys. */
  logger(keys: Record<string, unknown>): LogPort;
  /** Session secrets are named `<prefix><appliance name>`. */
  sessionSecretPrefix: string;
  /** An appliance named alone has its credentials secret at `<prefix><name>`. */
  credentialsSecretPrefix: string;
  /** Client tuning (tests shorten retries and timeouts). */
  client?: Pick<SpsClientOptions, 'retry' | 'timeouts'>;
  /** Progress of long transfers within one invocation (the local CLI draws a bar; unset on AWS). */
  progress?(report: { label: string; done: number; total?: number }): void;
  /** Where support bundles go: the S3 client (AWS or an S3-compatible endpoint) and defaults. */
  archive?: { s3: S3Client; defaultBucket?: string; kmsKeyId?: string };
  /** The appliance locks (only the lock functions get them on AWS). */
  locks?: LockStore;
  /** Figures for the dashboard (unset locally). */
  metrics?: MetricsPort;
}

/** What only some functions get: an operation declares the ones it needs. */
export type OptionalDep = 'archive' | 'locks';
/** The deps an operation that needs `N` runs with: those present, typed as such. */
export type DepsWith<N extends OptionalDep> = Deps & Required<Pick<Deps, N>>;

export interface OperationContext<N extends OptionalDep = never> {
  deps: DepsWith<N>;
  log: LogPort;
  now(): number;
  /**
   * The SPS client of an appliance: credentials from its secret (read here, unless the appliance
   * comes resolved with them already), session in its session secret.
   */
  sps(appliance: ApplianceRef | ResolvedAppliance): Promise<SpsClient>;
  sessionSecretId(appliance: ApplianceRef): string;
}

export interface Operation<R, N extends OptionalDep = OptionalDep> {
  readonly name: string;
  /** The optional deps it needs: `lambdaHandler` must be given them (checked by the compiler). */
  readonly needs: readonly N[];
  /** Runs the operation; deps it needs but lacks are a wiring defect (`Internal.Error`). */
  run(event: unknown, deps: Deps): Promise<R>;
}

/**
 * A step's parameters come from the state machine, which passes on input that validate-input
 * already accepted and what earlier steps returned: one that does not parse is a defect (or an
 * appliance answer no earlier step caught), so `Internal.Error`, never the user's `Input.Invalid`.
 */
function stepParameters<S extends z.ZodMiniType>(name: string, schema: S, raw: unknown): z.output<S> {
  try {
    return parseInput(schema, raw);
  } catch (err) {
    const problems = err instanceof Error ? err.message.replace(/^Invalid input: /, '') : String(err);
    throw new NamedError('Internal.Error', `${name} was given invalid parameters: ${problems}`);
  }
}

/**
 * The logger of the invocation a call belongs to. A cached client serves many invocations, at the
 * same time too in the local engine: each of its log lines carries the keys of its own invocation.
 */
export const invocationLog = new AsyncLocalStorage<LogPort>();

/** How an SPS operation gets its appliance's client (`spsOperation`); other operations have none. */
export interface SpsClients {
  clientFor(deps: Deps, appliance: ApplianceRef | ResolvedAppliance): Promise<SpsClient>;
  /** After a refused login: the next call reads the credentials secret again. */
  forget(deps: Deps, appliance: ApplianceRef): void;
}

/**
 * Defines one operation: validate the event, run one domain function, return a small result.
 * The same object serves the Lambda entry (with AWS adapters) and the local engine. One that talks
 * to appliances is defined with `spsOperation` (lambdas/shared/sps-operation.ts), which brings the
 * SPS client: the others' bundles leave it (and undici) out.
 */
export function operation<S extends z.ZodMiniType, R, N extends OptionalDep = never>(
  name: string,
  schema: S,
  fn: (event: z.output<S>, ctx: OperationContext<N>) => Promise<R>,
  needs: readonly N[] = [],
  clients?: SpsClients,
): Operation<R, N> {
  return {
    name,
    needs,
    async run(raw: unknown, deps: Deps): Promise<R> {
      const rawEvent = (raw ?? {}) as {
        executionId?: unknown;
        appliance?: { name?: unknown };
        applianceName?: unknown; // the lock operations name the appliance only
      };
      const applianceName = rawEvent.appliance?.name ?? rawEvent.applianceName;
      const log = deps.logger({
        operation: name,
        executionId: typeof rawEvent.executionId === 'string' ? rawEvent.executionId : undefined,
        appliance: typeof applianceName === 'string' ? applianceName : undefined,
      });
      const ctx: OperationContext<N> = {
        deps: deps as DepsWith<N>,
        log,
        now: () => deps.clock.now(),
        sps: (appliance) =>
          clients
            ? clients.clientFor(deps, appliance)
            : Promise.reject(new NamedError('Internal.Error', `${name} is not an SPS operation (spsOperation)`)),
        sessionSecretId: (appliance) => sessionSecretId(deps.sessionSecretPrefix, appliance.name),
      };
      let event: z.output<S> | undefined;
      try {
        const missing = needs.filter((need) => !deps[need]);
        if (missing.length) throw new NamedError('Internal.Error', `${name} is wired without ${missing.join(', ')}`);
        event = stepParameters(name, schema, raw);
        const parsed = event;
        const result = await invocationLog.run(log, () => fn(parsed, ctx));
        log.info(`${name} done`);
        return result;
      } catch (err) {
        const appliance = (event as { appliance?: ApplianceRef } | undefined)?.appliance;
        if (appliance && err instanceof SpsAuthenticationError) clients?.forget(deps, appliance);
        // Errors whose names are part of the contract pass through; anything else is a defect.
        const out = isContractError(err) ? err : new NamedError('Internal.Error', errorText(err), { cause: err });
        log.error(`${name} failed`, { error: out.name, reason: out.message });
        throw out;
      }
    },
  };
}
