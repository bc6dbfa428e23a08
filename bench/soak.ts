/**
 * `npm run soak [-- --executions 200 --concurrency 12 --seed 7]`: many executions of every workflow
 * at once over one simulator (40 standalone appliances, some with a fault scenario of their own,
 * and a 3-node cluster), each started with a random fault from the fault matrix injected into its
 * appliance, sharing the appliance locks, the embedded S3 and the engine. Prints a Markdown
 * report: executions by end, any end the README does not document, leaked secrets, what was left
 * behind (fetches, bundle jobs, open multipart uploads, locks) and the engine's memory. Not in
 * CI; the README shows the latest report. The seed fixes the plan (workflows, appliances,
 * faults), not the interleaving.
 */
import { parseArgs } from 'node:util';
import type { WorkflowName } from '../local/engine/engine';
import { ERROR_NAMES } from '../lambdas/shared/errors';
import { heldLocalLocks, startWorkflow, type HistoryEvent, type RunResult } from '../local/engine/engine';
import { clusterAppliances, SCENARIOS, type ApplianceOptions } from '../local/simulator';
import { sleep } from '../local/run/run';
import { bundleInput, firmwareInput, refuseSecrets, startHarness, type Harness } from '../test/helpers/workflow';

const { values } = parseArgs({
  options: {
    executions: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '12' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
  },
});
const EXECUTIONS = Number(values.executions);
const CONCURRENCY = Number(values.concurrency);
const SEED = Number(values.seed);
/** An execution that has not ended after this long (real time) is reported as hung. */
const HUNG_AFTER_MS = 5 * 60_000;
const MiB = 1024 * 1024;
/**
 * Simulated time runs this many times faster than real time, for every execution alike. (Jumping
 * the clock at each Wait, as single runs do, would let one execution's wait age every other's
 * deadlines: a lock waiter's 30 minutes would pass while its holder stood still.)
 */
const TIME_SCALE = 120;

/** A Wait state's pause at TIME_SCALE, ended early when the execution stops. */
const scaledWait = (seconds: number, signal?: AbortSignal) => sleep((seconds * 1000) / TIME_SCALE, signal);

/** mulberry32: a small seeded generator, so a seed replays the same plan. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const rand = random(SEED);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const some = <T>(items: readonly T[], n: number): T[] => [...items].sort(() => rand() - 0.5).slice(0, n);

// A third of the appliances misbehave in a way of their own (every scenario but the cluster ones).
const SCENARIO_NAMES = SCENARIOS.filter((s) => s !== 'happy');
const STANDALONE: ApplianceOptions[] = Array.from({ length: 40 }, (_, i) => ({
  name: `soak-${String(i + 1).padStart(2, '0')}`,
  bundleBytes: 12 * MiB,
  ...(rand() < 1 / 3 ? { scenario: pick(SCENARIO_NAMES) } : {}),
}));
const NAMES = STANDALONE.map((a) => a.name);

/** The faults of the matrix that can be injected into a running appliance (or its secret, or S3). */
type FaultName =
  | 'none'
  | '5xx burst'
  | 'connection resets'
  | 'a request hangs'
  | 'sessions expire'
  | 'upgrade answer lost'
  | 'truncated download'
  | 'Secrets Manager failure'
  | 'S3 part failure';
const FAULTS: FaultName[] = [
  'none',
  'none',
  'none',
  '5xx burst',
  'connection resets',
  'a request hangs',
  'sessions expire',
  'upgrade answer lost',
  'truncated download',
  'Secrets Manager failure',
  'S3 part failure',
];

interface Planned {
  workflow: WorkflowName;
  appliance: string;
  fault: FaultName;
  input(h: Harness): unknown;
}

function plan(): Planned {
  const appliance = pick(NAMES);
  const fault = pick(FAULTS);
  const others = (n: number) =>
    some(
      NAMES.filter((name) => name !== appliance),
      n,
    );
  const roll = rand();
  if (roll < 0.3) {
    const dryRun = rand() < 0.5;
    return {
      workflow: 'firmware-upgrade',
      appliance,
      fault,
      input: (h) => firmwareInput(h, { name: appliance, options: { dryRun } }),
    };
  }
  if (roll < 0.6)
    return { workflow: 'support-bundle', appliance, fault, input: (h) => bundleInput(h, { name: appliance }) };
  if (roll < 0.8) {
    return {
      workflow: 'preflight',
      appliance,
      fault,
      input: (h) => ({ appliance: h.ref(appliance), targetVersion: '8.0.1' }),
    };
  }
  if (roll < 0.95) {
    const workflow = pick(['support-bundle', 'preflight'] as const);
    const appliances = [appliance, ...others(1 + Math.floor(rand() * 4))];
    return {
      workflow: 'fleet-run',
      appliance,
      fault,
      input: () => ({ workflow, appliances, input: workflow === 'preflight' ? { targetVersion: '8.0.1' } : {} }),
    };
  }
  const appliances = [appliance, ...others(2)];
  return {
    workflow: 'fleet-upgrade',
    appliance,
    fault,
    input: (h) => ({
      firmware: firmwareInput(h).firmware,
      appliances: rand() < 0.5 ? [...appliances, 'east-1', 'east-2', 'east-3'] : appliances,
      rollout: { maxFailures: 1 },
    }),
  };
}

const failingSecrets = new Set<string>();
let failNextPart = false;

function inject(h: Harness, p: Planned): void {
  const a = h.sim.appliance(p.appliance);
  switch (p.fault) {
    case '5xx burst':
      return a.injectFault({ kind: 'http-503', times: 2 });
    case 'connection resets':
      return a.injectFault({ kind: 'reset', times: 2 });
    case 'a request hangs':
      return a.injectFault({ method: 'GET', kind: 'hang', times: 1 });
    case 'sessions expire':
      return a.expireSessions();
    case 'upgrade answer lost':
      return a.injectFault({ method: 'POST', path: '/api/firmware/upgrade', kind: 'lost-answer' });
    case 'truncated download':
      return a.injectFault({ method: 'GET', path: /\/download$/, kind: 'truncate' });
    case 'Secrets Manager failure':
      return void failingSecrets.add(`sps/${p.appliance}`);
    case 'S3 part failure':
      failNextPart = true;
      return;
    case 'none':
      return;
  }
}

interface Ended {
  planned: Planned;
  result: RunResult | undefined;
  /** Its own events and every child's. */
  histories: HistoryEvent[][];
}

const OUTCOMES: Record<string, (output: Record<string, unknown>) => string | undefined> = {
  'firmware-upgrade': (o) => o.outcome as string,
  preflight: (o) => (o.verdict ? `verdict ${String(o.verdict)}` : undefined),
  'support-bundle': (o) => (o.key && o.sha256 ? 'archived' : undefined),
  'fleet-run': (o) => (o.summary ? 'all succeeded' : undefined),
  'fleet-upgrade': (o) => (o.summary ? 'rolled out' : undefined),
};
const DOCUMENTED_OUTCOMES = new Set([
  'upgraded',
  'already-current',
  'dry-run-passed',
  'verdict pass',
  'verdict warn',
  'verdict fail',
  'archived',
  'all succeeded',
  'rolled out',
]);
const DEFECTS = new Set(['Internal.Error']);

/** How an execution ended, and whether the README documents that end. */
function endOf({ planned, result }: Ended): { end: string; documented: boolean } {
  if (!result) return { end: 'did not end', documented: false };
  if (result.status === 'SUCCEEDED') {
    const outcome = OUTCOMES[planned.workflow]!((result.output ?? {}) as Record<string, unknown>) ?? 'no outcome';
    return { end: `SUCCEEDED ${outcome}`, documented: DOCUMENTED_OUTCOMES.has(outcome) };
  }
  if (result.status === 'ABORTED') return { end: 'ABORTED', documented: false };
  const error = result.error ?? 'no error name';
  return {
    end: `FAILED ${error}`,
    documented: (ERROR_NAMES as readonly string[]).includes(error) && !DEFECTS.has(error),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const h = await startHarness([...STANDALONE, ...clusterAppliances('east', 3)], { s3: true });
  // What the Secrets Manager store throws when AWS throttles it, once for each fault of that kind.
  refuseSecrets(h.deps.secrets, (id, write) => !write && failingSecrets.delete(id));
  // A hung request gives up after 1 s (the matrix's "a status poll times out").
  const deps = { ...h.deps, client: { ...h.deps.client, timeouts: { headersMs: 1000 } } };
  h.s3!.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand' && failNextPart) {
        failNextPart = false;
        throw Object.assign(new Error('We encountered an internal error'), { name: 'InternalError' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'soakPartFailure' },
  );
  h.sim.clock.setTimeScale(TIME_SCALE);
  global.gc?.();
  const heapAtStart = process.memoryUsage().heapUsed;

  const plans = Array.from({ length: EXECUTIONS }, plan);
  const ended: Ended[] = [];
  let next = 0;
  let children = 0;
  const worker = async () => {
    while (next < plans.length) {
      const planned = plans[next++]!;
      inject(h, planned);
      const histories: HistoryEvent[][] = [[]];
      const track = (events: HistoryEvent[]) => (e: HistoryEvent) => void events.push(e);
      const run = startWorkflow({
        workflow: planned.workflow,
        input: planned.input(h),
        deps,
        wait: scaledWait,
        onEvent: track(histories[0]!),
        onChild: () => {
          children++;
          const events: HistoryEvent[] = [];
          histories.push(events);
          return { onEvent: track(events) };
        },
      });
      let timer: NodeJS.Timeout | undefined;
      const result = await Promise.race([
        run.result,
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), HUNG_AFTER_MS))),
      ]);
      clearTimeout(timer);
      if (!result) await run.abort({ graceMs: 1000 });
      ended.push({ planned, result, histories });
      if (ended.length % 20 === 0) process.stderr.write(`soak: ${ended.length}/${plans.length} ended\n`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wallSeconds = (performance.now() - started) / 1000;

  // What was left behind.
  const journal = h.sim.journal.entries();
  const touched = (key: string) => journal.some((e) => e.path.includes(key));
  const fetchesLeft: string[] = [];
  const bundlesLeft: string[] = [];
  for (const a of h.sim.appliances) {
    const state = a.state();
    for (const j of state.fetchJobs) if (!j.operator) fetchesLeft.push(`${a.name}: fetch ${j.status}`);
    for (const b of state.bundles) if (touched(b.key)) bundlesLeft.push(`${a.name}: bundle ${b.status}`);
  }
  const ends = ended.map((e) => ({ ...endOf(e), workflow: e.planned.workflow, e }));
  // A run that failed once its bundle was finished keeps the bundle on the appliance (README,
  // "Reliability"): every execution, children included, that entered Archive and then failed.
  const archiveFailures = ended
    .flatMap((e) => e.histories)
    .filter((h) => h.some((e) => e.state?.name === 'Archive') && h.at(-1)?.type === 'ExecutionFailed').length;
  const finishedBundles = bundlesLeft.filter((b) => b.endsWith('finished')).length;
  const orphanBundles = bundlesLeft.length - finishedBundles + Math.max(0, finishedBundles - archiveFailures);
  const openUploads = h.s3!.orphanUploads().length;
  const locks = heldLocalLocks();

  const secrets = h.secretValues();
  const leaks = new Set<string>();
  const logs = JSON.stringify(h.logs);
  for (const { result, histories } of ended) {
    const text = JSON.stringify({ histories, output: result?.output, cause: result?.cause });
    for (const s of secrets) if (text.includes(s)) leaks.add(s);
  }
  for (const s of secrets) if (logs.includes(s)) leaks.add(s);

  // What the process holds once the soak drops what it kept to check: the engine, the simulator
  // (its journal of every request included) and the embedded S3.
  const histories = ended.reduce((n, e) => n + e.histories.length, 0);
  for (const e of ended) {
    e.histories.length = 0;
    e.result?.events.splice(0);
  }
  h.logs.length = 0;
  global.gc?.();
  const memory = process.memoryUsage();
  await h.close();

  // The report.
  const byEnd = new Map<string, number>();
  for (const x of ends) byEnd.set(`${x.workflow} | ${x.end}`, (byEnd.get(`${x.workflow} | ${x.end}`) ?? 0) + 1);
  const undocumented = ends.filter((x) => !x.documented);
  const mib = (bytes: number) => (bytes / MiB).toFixed(0);
  const out: string[] = [];
  out.push(
    `Soak of ${new Date().toISOString().slice(0, 10)}: \`npm run soak -- --executions ${EXECUTIONS} --concurrency ${CONCURRENCY} --seed ${SEED}\`, ` +
      `${EXECUTIONS} executions (${children} child executions besides), ${CONCURRENCY} at a time, simulated time ${TIME_SCALE}× real, ` +
      `${wallSeconds.toFixed(0)} s wall, Node.js ${process.versions.node}.`,
    '',
    '| workflow | end | executions |',
    '| --- | --- | --- |',
    ...[...byEnd].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `| ${k} | ${n} |`),
    '',
    '| check | count |',
    '| --- | --- |',
    `| ended in a state the README does not document (or did not end) | ${undocumented.length} |`,
    `| secrets (passwords, session ids) found in histories, outputs, causes or logs | ${leaks.size} |`,
    `| fetches left on an appliance | ${fetchesLeft.length} |`,
    `| bundle jobs left on an appliance (beyond the finished ones a failed archive keeps) | ${orphanBundles} |`,
    `| open multipart uploads | ${openUploads} |`,
    `| appliance locks left held | ${locks.length} |`,
    '',
    `Memory at the end, the ${histories} histories and the logs released (after GC${global.gc ? '' : ': not available, run with --expose-gc'}): heap ` +
      `${mib(memory.heapUsed)} MiB (${mib(heapAtStart)} MiB before the first execution; the simulator's journal holds ` +
      `${journal.length} requests), RSS ${mib(memory.rss)} MiB.`,
  );
  // Every failure, for whoever looks into one (stderr: not part of the report).
  for (const x of ends.filter((x) => x.e.result?.status === 'FAILED')) {
    const scenario = STANDALONE.find((a) => a.name === x.e.planned.appliance)?.scenario ?? 'happy';
    const cause = (x.e.result?.cause ?? '').slice(0, 200);
    process.stderr.write(
      `failed: ${x.workflow} on ${x.e.planned.appliance} (${scenario}; ${x.e.planned.fault}): ${x.end} ${cause}\n`,
    );
  }
  for (const x of undocumented) {
    out.push(
      `- undocumented: ${x.workflow} on ${x.e.planned.appliance} (${x.e.planned.fault}): ${x.end} ${x.e.result?.cause ?? ''}`,
    );
  }
  for (const f of fetchesLeft) out.push(`- left: ${f}`);
  for (const b of bundlesLeft) out.push(`- bundle: ${b}`);
  for (const l of locks) out.push(`- lock held: ${l.appliance} by ${l.holder}${l.running ? ' (still running)' : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
  const failed = undocumented.length + leaks.size + fetchesLeft.length + orphanBundles + openUploads + locks.length;
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${String(err)}\n`);
  process.exit(1);
});
