import type { S3Client } from '@aws-sdk/client-s3';
import { OPERATION_SPECS, type OperationName } from '../lambdas/operations/catalog';
import type { SecretStore } from '../lambdas/shared/ports';
import { runWorkflow, type HistoryEvent, type RunOptions } from '../local/engine/engine';
import { bundleInput, startHarness, type Harness } from '../test/helpers/workflow';
import type { Figure } from './figures';

/*
 * What a run would cost on AWS, from what the local run measured: its state transitions (every
 * execution's, children included), its Lambda invocations and how long each took at its
 * function's memory, and its S3 and Secrets Manager requests.
 */

/**
 * us-east-1 list prices (USD) as published on the AWS pricing pages, read 2025-06; this machine
 * cannot reach them to read them again. Free tiers are left out.
 */
export const PRICES = {
  asOf: '2025-06',
  /** Step Functions Standard: $0.025 per 1,000 state transitions. */
  stateTransition: 0.025 / 1000,
  /** Lambda: $0.20 per million requests. */
  lambdaRequest: 0.2 / 1e6,
  /** Lambda on Arm (the functions' architecture), first tier. */
  lambdaGbSecond: 0.0000133334,
  /** S3 Standard PUT, COPY, POST, LIST: $0.005 per 1,000. */
  s3Write: 0.005 / 1000,
  /** S3 Standard GET, HEAD and the rest: $0.0004 per 1,000. */
  s3Read: 0.0004 / 1000,
  /** Secrets Manager: $0.05 per 10,000 API calls. */
  secretsCall: 0.05 / 10_000,
};

/**
 * Each invocation is billed at least this long: loopback answers in microseconds, a real appliance
 * does not, and a cold start's initialisation is billed too. Generous on purpose.
 */
export const BILLED_FLOOR_SECONDS = 1;

export interface Usage {
  transitions: number;
  lambdaRequests: number;
  gbSeconds: number;
  s3Writes: number;
  s3Reads: number;
  secretsCalls: number;
}

const S3_READS = /^(Get|Head)/;

/**
 * Counts what runs use: give the engine `watch(h)` (or `onEvent`, `onChild` and the clients wrapped
 * by `countS3` and `countSecrets`), then read `usage()`.
 */
export function meter() {
  const executions: HistoryEvent[][] = [];
  let s3Writes = 0;
  let s3Reads = 0;
  let secretsCalls = 0;
  const track = () => {
    const events: HistoryEvent[] = [];
    executions.push(events);
    return (e: HistoryEvent) => void events.push(e);
  };
  const onEvent = track();
  const onChild = (): Pick<RunOptions, 'onEvent'> => ({ onEvent: track() });
  const countS3 = (client: S3Client) => {
    client.middlewareStack.add(
      (next, context) => (args) => {
        if (S3_READS.test(context.commandName ?? '')) s3Reads++;
        else s3Writes++;
        return next(args);
      },
      { step: 'finalizeRequest', name: 'costMeter' },
    );
  };
  const countSecrets = (store: SecretStore): SecretStore =>
    new Proxy(store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          secretsCalls++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    onEvent,
    onChild,
    countS3,
    countSecrets,
    /** The run options that meter a run on `h`: its events and its children's, its secret and S3 calls (call once). */
    watch(h: Harness): Pick<RunOptions, 'deps' | 'onEvent' | 'onChild'> {
      if (h.s3) countS3(h.s3.client);
      return { deps: { ...h.deps, secrets: countSecrets(h.deps.secrets) }, onEvent, onChild };
    },
    usage(): Usage {
      const usage: Usage = { transitions: 0, lambdaRequests: 0, gbSeconds: 0, s3Writes, s3Reads, secretsCalls };
      for (const events of executions) lambdaAndTransitions(events, usage);
      return usage;
    },
  };
}

/**
 * Step Functions bills every state entered and every retry; a Lambda task state is one invocation
 * per attempt, billed from its entry to its exit (at least the floor per attempt).
 */
function lambdaAndTransitions(events: readonly HistoryEvent[], usage: Usage): void {
  const open = new Map<string, Array<{ at: number; attempts: number; operation: OperationName }>>();
  for (const e of events) {
    if (e.type === 'StateEntered' || e.type === 'StateRetried') usage.transitions++;
    if (!e.operation || !e.state) continue;
    const name = e.state.name;
    const queue = open.get(name) ?? open.set(name, []).get(name)!;
    if (e.type === 'StateEntered') queue.push({ at: e.timestamp, attempts: 1, operation: e.operation });
    else if (e.type === 'StateRetried' && queue[0]) queue[0].attempts++;
    else if (e.type === 'StateExited' || e.type === 'StateFailed') {
      const call = queue.shift();
      if (!call) continue;
      const seconds = Math.max((e.timestamp - call.at) / 1000, BILLED_FLOOR_SECONDS * call.attempts);
      usage.lambdaRequests += call.attempts;
      usage.gbSeconds += (OPERATION_SPECS[call.operation].memoryMb / 1024) * seconds;
    }
  }
}

export function costUsd(u: Usage): number {
  return (
    u.transitions * PRICES.stateTransition +
    u.lambdaRequests * PRICES.lambdaRequest +
    u.gbSeconds * PRICES.lambdaGbSecond +
    u.s3Writes * PRICES.s3Write +
    u.s3Reads * PRICES.s3Read +
    u.secretsCalls * PRICES.secretsCall
  );
}

/** One line for the bench's log: the dollars and what they are made of. */
export function costLine(label: string, u: Usage): string {
  return (
    `${label}: $${costUsd(u).toFixed(5)} (${u.transitions} transitions, ${u.lambdaRequests} invocations, ` +
    `${u.gbSeconds.toFixed(1)} GB-s, ${u.s3Writes}+${u.s3Reads} S3 requests, ${u.secretsCalls} secret calls; prices of ${PRICES.asOf})`
  );
}

/**
 * One support-bundle archival of a 1 GiB bundle (simulated generation, the embedded S3): its cost.
 * The upgrade's and the fleet's are measured by their own suites' runs.
 */
export async function archiveCostFigures(log: (line: string) => void): Promise<Figure[]> {
  const h = await startHarness([{ name: 'sps-bench-1', bundleBytes: 1024 ** 3 }], { s3: true });
  try {
    const m = meter();
    const result = await runWorkflow({
      workflow: 'support-bundle',
      input: bundleInput(h),
      ...m.watch(h),
      wait: async (seconds) => h.sim.clock.advance(seconds * 1000),
    });
    if (result.status !== 'SUCCEEDED') throw new Error(`archive failed: ${result.error} ${result.cause}`);
    const usage = m.usage();
    log(costLine('archive cost (1 GiB)', usage));
    return [{ name: 'archive.cost_usd_1gib', value: Math.round(costUsd(usage) * 1e5) / 1e5, unit: 'USD' }];
  } finally {
    await h.close();
  }
}
