/*
 * The ports the shared code depends on. AWS adapters (lambdas/shared/aws.ts) and local ones
 * (local/) implement them; handlers never know which they got.
 */

/** Structured logs (Powertools Logger fits). Attributes never carry secrets. */
export interface LogPort {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLogger: LogPort = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Figures a handler knows (bytes archived, preflight verdicts, fleet outcomes) for the stack's
 * dashboard: on AWS CloudWatch metrics in the function's own logs (Powertools, EMF), locally nowhere.
 */
export interface MetricsPort {
  add(name: string, unit: 'Count' | 'Bytes' | 'Seconds', value: number, dimensions?: Record<string, string>): void;
}

/** Wall time, in epoch milliseconds. Local runs against the simulator pass its accelerated clock. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** Secrets by id: credentials (read) and SPS session secrets (read and written). */
export interface SecretStore {
  /** The secret's string value, or undefined when no such secret exists. */
  get(id: string): Promise<string | undefined>;
  /** Writes a new value, creating the secret when it does not exist yet. */
  put(id: string, value: string, description?: string): Promise<void>;
  /** The ids of the secrets whose names start with `prefix` (names only: no value is read). */
  list(prefix: string): Promise<string[]>;
}

/**
 * One workflow at a time per appliance (by name). The holder is an execution id; a holder that no
 * longer runs (it finished, was aborted or timed out without giving the appliance up) does not count.
 */
export interface LockStore {
  /** Takes the appliance for `owner`; when another running execution holds it, takes nothing and returns that one. */
  acquire(appliance: string, owner: string): Promise<string | undefined>;
  /** Gives the appliance up, if `owner` holds it. */
  release(appliance: string, owner: string): Promise<void>;
}
