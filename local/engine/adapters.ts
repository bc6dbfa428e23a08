import type { LockStore, LogPort, SecretStore } from '../../lambdas/shared/ports';

/**
 * Stands in for Secrets Manager: credentials come from the `--secrets` map (secret id → value);
 * session secrets the workflow writes stay in memory for the run.
 */
export class LocalSecretStore implements SecretStore {
  private readonly values = new Map<string, string>();

  constructor(initial: Record<string, unknown> = {}) {
    for (const [id, value] of Object.entries(initial)) {
      this.values.set(id, typeof value === 'string' ? value : JSON.stringify(value));
    }
  }

  async get(id: string): Promise<string | undefined> {
    return this.values.get(id);
  }

  async put(id: string, value: string): Promise<void> {
    this.values.set(id, value);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.values.keys()].filter((id) => id.startsWith(prefix)).sort();
  }

  /** Every value held: tests scan workflow output and logs for them. */
  allValues(): string[] {
    return [...this.values.values()];
  }
}

export interface LogRecord {
  level: string;
  message: string;
  [key: string]: unknown;
}

/** A structured logger like Powertools' that hands each record to `sink` (a file, a test array). */
export function recordingLogger(sink: (record: LogRecord) => void, keys: Record<string, unknown> = {}): LogPort {
  const write =
    (level: string) =>
    (message: string, attributes?: Record<string, unknown>): void =>
      sink({ level, message, timestamp: new Date().toISOString(), ...keys, ...attributes });
  return { debug: write('DEBUG'), info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}

/**
 * Appliance locks within one process (the local engine runs every execution in-process): a lock
 * whose holder is no longer running is free.
 */
export class LocalLockStore implements LockStore {
  private readonly holders = new Map<string, string>();

  constructor(private readonly isRunning: (execution: string) => boolean) {}

  async acquire(appliance: string, owner: string): Promise<string | undefined> {
    const holder = this.holders.get(appliance);
    if (holder && holder !== owner && this.isRunning(holder)) return holder;
    this.holders.set(appliance, owner);
    return undefined;
  }

  async release(appliance: string, owner: string): Promise<void> {
    if (this.holders.get(appliance) === owner) this.holders.delete(appliance);
  }

  /** The locks taken and not released, whether or not their holder still runs. */
  held(): Array<{ appliance: string; holder: string; running: boolean }> {
    return [...this.holders].map(([appliance, holder]) => ({ appliance, holder, running: this.isRunning(holder) }));
  }
}
