import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SESSION_SECRET_PREFIX } from '../../lambdas/operations/catalog';
import { s3Client } from '../../lambdas/shared/archive';
import { SecretError } from '../../lambdas/shared/credentials';
import type { Deps } from '../../lambdas/shared/operation';
import type { SecretStore } from '../../lambdas/shared/ports';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3, type EmbeddedS3 } from '../../local/s3/embedded';
import { LocalSecretStore, recordingLogger, type LogRecord } from '../../local/engine/adapters';
import {
  runWorkflow,
  type HistoryEvent,
  type LifecycleEvent,
  type RunOptions,
  type RunResult,
  type WorkflowName,
} from '../../local/engine/engine';
import { startSimulator, type ApplianceOptions, type Simulator, type SimulatorOptions } from '../../local/simulator';
import { simulatedCredentials } from '../../local/simulator/credentials';

export const SHA256 = 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80';
export const FIRMWARE_URL = 'https://downloads.example.internal/sps-8.0.1.iso';

export const BUCKET = 'archive';

export interface Harness {
  sim: Simulator;
  /** The embedded S3 server (s3rver) behind `deps.archive`, when started with `s3: true`. */
  s3?: EmbeddedS3 & {
    client: S3Client;
    objects(): Promise<Array<{ key: string; size: number }>>;
    orphanUploads(): string[];
  };
  deps: Deps;
  secrets: LocalSecretStore;
  logs: LogRecord[];
  /** The lifecycle events the runs put on the bus (locally handed to the engine's callback). */
  lifecycleEvents: LifecycleEvent[];
  /** The appliance reference of a simulated appliance, as users put it in an input. */
  ref(name?: string): { name: string; endpoint: string; credentialsSecretId: string };
  /** Runs a workflow; `onWait` sees every Wait (after the clock moved) to act on the appliance mid-run. */
  run(workflow: WorkflowName, input: unknown, onWait?: (seconds: number) => Promise<void> | void): Promise<RunResult>;
  /** Every password and session id this run knows of: none may appear in history, logs or output. */
  secretValues(): string[];
  close(): Promise<void>;
}

/** The simulator over HTTPS, the real ASL in the local engine, the real handlers, simulated time. */
export async function startHarness(
  appliances: ApplianceOptions[] = [{ name: 'sps-sim-1' }],
  options: Omit<SimulatorOptions, 'appliances'> & { s3?: boolean } = {},
): Promise<Harness> {
  const { s3: withS3, ...simOptions } = options;
  const sim = await startSimulator({ ...simOptions, appliances });
  let s3: Harness['s3'];
  if (withS3) {
    const embedded = await startEmbeddedS3({ directory: mkdtempSync(join(tmpdir(), 's3-')), buckets: [BUCKET] });
    const client = s3Client(embedded.endpoint, { region: 'us-east-1', credentials: EMBEDDED_S3_CREDENTIALS });
    s3 = {
      ...embedded,
      client,
      objects: async () =>
        ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => ({
          key: o.Key!,
          size: o.Size!,
        })),
      // s3rver keeps each unfinished multipart upload in a folder of its own.
      orphanUploads: () => {
        const dir = join(embedded.directory, BUCKET, '._S3rver_uploads');
        return existsSync(dir) ? readdirSync(dir) : [];
      },
    };
  }
  const secrets = new LocalSecretStore(
    Object.fromEntries(sim.appliances.map((a) => [`sps/${a.name}`, simulatedCredentials(sim, a)])),
  );
  const logs: LogRecord[] = [];
  const lifecycleEvents: LifecycleEvent[] = [];
  const deps: Deps = {
    secrets,
    clock: sim.clock,
    sessionSecretPrefix: SESSION_SECRET_PREFIX,
    credentialsSecretPrefix: 'sps/',
    logger: (keys) => recordingLogger((r) => logs.push(r), keys),
    client: { retry: { baseDelayMs: 1, maxDelayMs: 5 } },
    archive: s3 ? { s3: s3.client, defaultBucket: BUCKET } : undefined,
  };
  const ref = (name = sim.appliances[0]!.name) => {
    const a = sim.appliance(name);
    return { name: a.name, endpoint: a.endpoint, credentialsSecretId: `sps/${a.name}` };
  };
  return {
    sim,
    s3,
    deps,
    secrets,
    logs,
    lifecycleEvents,
    ref,
    run: (workflow, input, onWait) =>
      runWorkflow({
        workflow,
        input,
        deps,
        onLifecycleEvent: (e) => lifecycleEvents.push(e),
        wait: async (seconds) => {
          sim.clock.advance(seconds * 1000);
          await onWait?.(seconds);
        },
      }),
    secretValues: () => [
      ...sim.appliances.flatMap((a) => [a.password, ...a.issuedSessionIds()]),
      ...secrets
        .allValues()
        .map((v) => {
          try {
            return (JSON.parse(v) as { sessionId?: string }).sessionId;
          } catch {
            return undefined;
          }
        })
        .filter((v): v is string => typeof v === 'string'),
    ],
    close: async () => {
      await sim.close();
      await s3?.close();
      if (s3) rmSync(s3.directory, { recursive: true, force: true });
    },
  };
}

/** Known secrets (passwords, session ids) found in the execution history, the logs or the result. */
export function leakedSecrets(h: Harness, result: RunResult): string[] {
  const haystack = JSON.stringify({ events: result.events, output: result.output, cause: result.cause, logs: h.logs });
  const secrets = h.secretValues();
  if (secrets.length === 0) throw new Error('the secret scan knows no secret: it would prove nothing');
  return secrets.filter((secret) => haystack.includes(secret));
}

/** Fails the test when any known secret appears in the execution history, the logs or the result. */
export function expectNoSecrets(h: Harness, result: RunResult): void {
  expect(leakedSecrets(h, result)).toEqual([]);
}

/**
 * Runs a fleet workflow (its child executions in the same engine), counting the children running
 * at once; the secret scan covers the parent's history and every child's.
 */
export async function runFleet(
  h: Harness,
  workflow: 'fleet-run' | 'fleet-upgrade',
  input: unknown,
  extra: Pick<RunOptions, 'onApprovalRequest'> = {},
): Promise<{ result: RunResult; children: Array<{ workflow: WorkflowName; input: unknown }>; mostAtOnce: number }> {
  let running = 0;
  let mostAtOnce = 0;
  const children: Array<{ workflow: WorkflowName; input: unknown }> = [];
  const childEvents: HistoryEvent[] = [];
  const result = await runWorkflow({
    workflow,
    input,
    deps: h.deps,
    onLifecycleEvent: (e) => h.lifecycleEvents.push(e),
    wait: async (seconds) => h.sim.clock.advance(seconds * 1000),
    onChild: (childWorkflow, childInput) => {
      children.push({ workflow: childWorkflow, input: childInput });
      mostAtOnce = Math.max(mostAtOnce, ++running);
      return {
        onEvent: (e: HistoryEvent) => {
          childEvents.push(e);
          if (/^Execution(Succeeded|Failed|Aborted)$/.test(e.type)) running--;
        },
      };
    },
    ...extra,
  });
  expectNoSecrets(h, result);
  const childHistory = JSON.stringify(childEvents);
  expect(h.secretValues().filter((secret) => childHistory.includes(secret))).toEqual([]);
  if (children.length > 0) expect(childEvents.length).toBeGreaterThan(0);
  return { result, children, mostAtOnce };
}

/**
 * Makes Secrets Manager fail with `Secrets.Unavailable` (as the AWS store does when throttled or
 * unreachable) on each read or write `refuse` picks; returns how many it has refused so far.
 */
export function refuseSecrets(store: SecretStore, refuse: (id: string, write: boolean) => boolean): () => number {
  const [get, put] = [store.get.bind(store), store.put.bind(store)];
  let refused = 0;
  const check = (id: string, write: boolean) => {
    if (!refuse(id, write)) return;
    refused++;
    throw new SecretError(
      'Secrets.Unavailable',
      `Cannot ${write ? 'write' : 'read'} secret "${id}": Secrets Manager cannot be reached (ETIMEDOUT)`,
    );
  };
  store.get = async (id) => (check(id, false), get(id));
  store.put = async (id, value, description) => (check(id, true), put(id, value, description));
  return () => refused;
}

/** Makes the archive's S3 client fail on the second multipart part, as an S3 outage mid-upload would. */
export function failSecondPart(
  h: Harness,
  error: object = { name: 'InternalError', message: 'We encountered an internal error' },
): void {
  h.s3!.client.middlewareStack.add(
    (next) => async (args) => {
      if ((args.input as { PartNumber?: number }).PartNumber === 2) {
        throw Object.assign(new Error(), error);
      }
      return next(args);
    },
    { step: 'initialize', name: 'failSecondPart' },
  );
}

/** Makes the archive's first CopyObject (the sha256 label, after the object is stored) fail once. */
export function failFirstCopy(h: Harness): void {
  let failed = false;
  h.s3!.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'CopyObjectCommand' && !failed) {
        failed = true;
        throw Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failFirstCopy' },
  );
}

export function bundleInput(h: Harness, extra: { archive?: object; options?: object; name?: string } = {}) {
  return {
    appliance: h.ref(extra.name),
    ...(extra.archive ? { archive: extra.archive } : {}),
    ...(extra.options ? { options: extra.options } : {}),
  };
}

export function firmwareInput(h: Harness, extra: { firmware?: object; options?: object; name?: string } = {}) {
  return {
    appliance: h.ref(extra.name),
    firmware: { url: FIRMWARE_URL, sha256: SHA256, expectedVersion: '8.0.1', ...extra.firmware },
    ...(extra.options ? { options: extra.options } : {}),
  };
}
