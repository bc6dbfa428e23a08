import { constants } from 'node:os';
import { OPERATIONS, type OperationName } from '../../lambdas/operations';
import { archiveKey } from '../../lambdas/operations/archive';
import type { Deps } from '../../lambdas/shared/operation';
import type { AbortedRun, ExecutionSnapshot, RunResult, WorkflowName } from '../engine/engine';

/*
 * Ctrl-C during `sps-workflows run`: the execution is stopped, what it started on the appliance is
 * cleaned up with the workflow's own operations (a fetch it started is canceled, a bundle it
 * requested deleted), and the user is told what was done and what may still be running there.
 * A second Ctrl-C exits at once, naming what may still be running.
 */

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** Where stop signals come from: this process, or a test. */
export interface Interrupts {
  /** Calls `listener` on every SIGINT and SIGTERM until the returned function is called. */
  listen(listener: (signal: StopSignal) => void): () => void;
}

export interface RunControl {
  interrupts: Interrupts;
  /** Ends the process with `code` (when it returns, the caller returns the code). */
  exit(code: number): void;
  /** How long one cleanup call may take (default 30 s). */
  cleanupTimeoutMs?: number;
  /** How long an operation in flight when the signal came may still take to answer (default 10 s). */
  graceMs?: number;
}

/** The signals of this process; `exit` is `process.exit`. */
export function processControl(): RunControl {
  return {
    interrupts: {
      listen(listener) {
        const onInt = () => listener('SIGINT');
        const onTerm = () => listener('SIGTERM');
        process.on('SIGINT', onInt);
        process.on('SIGTERM', onTerm);
        return () => {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
        };
      },
    },
    exit: (code) => process.exit(code),
  };
}

/** 128 + the signal's number, as a shell reports a command a signal ended: 130 for SIGINT. */
export const exitCodeFor = (signal: StopSignal): number => 128 + constants.signals[signal];

/** Where the support-bundle archive goes, for what an interrupted upload leaves behind. */
export interface ArchiveTarget {
  endpoint: string;
  defaultBucket?: string;
  /** The embedded S3 server's folder (unset for `--s3-endpoint`). */
  embeddedDir?: string;
}

/** One call that undoes what the run started. */
export interface CleanupAction {
  /** Shown while it runs: "canceling firmware fetch K on A". */
  doing: string;
  operation: OperationName;
  params: Record<string, unknown>;
  /** What stays on the appliance unless the call succeeds. */
  leftover: string;
  /** The summary line for its answer; `stillRunning` when the appliance still works on it. */
  outcome(result: unknown): { line: string; stillRunning?: string };
}

export interface CleanupPlan {
  appliance?: { name: string; endpoint?: string };
  /** Where the execution stopped. */
  stoppedIn?: string;
  actions: CleanupAction[];
  /** What was left alone on purpose, and why. */
  notes: string[];
  /** What may still run on the appliance whatever the cleanup does. */
  running: string[];
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The states entered so far. */
const enteredStates = (s: ExecutionSnapshot) =>
  new Set(s.events.filter((e) => e.type === 'StateEntered' && e.state).map((e) => e.state!.name));

/** The output of the last exit of `state`, if it exited. */
function exitedOutput(s: ExecutionSnapshot, state: string): Json | undefined {
  const e = [...s.events].reverse().find((x) => x.type === 'StateExited' && x.state?.name === state);
  return e ? (obj(e.state!.output) ?? {}) : undefined;
}

/** The answer of an operation the state called, once it answered without an error. */
function answered(s: ExecutionSnapshot, state: string): Json | undefined {
  return s.task?.state === state && s.task.settled && !s.task.error ? obj(s.task.result) : undefined;
}

const inFlight = (s: ExecutionSnapshot, state: string) => s.task?.state === state && !s.task.settled;

function applianceOf(data: Json | undefined): CleanupPlan['appliance'] {
  const a = data?.appliance;
  if (typeof a === 'string') return { name: a };
  const ref = obj(a);
  const name = str(ref?.name);
  return name ? { name, endpoint: str(ref?.endpoint) } : undefined;
}

const where = (p: CleanupPlan) => p.appliance?.endpoint ?? p.appliance?.name ?? 'the appliance';

function firmwarePlan(s: ExecutionSnapshot, plan: CleanupPlan, data: Json | undefined): void {
  const entered = enteredStates(s);
  const name = plan.appliance?.name ?? 'the appliance';
  if (entered.has('Upgrade')) {
    // Once the POST may have gone out, the appliance may be rebooting: nothing is touched.
    const test = obj(data?.test);
    const upgrade = obj(data?.upgrade);
    const slotId =
      upgrade?.slotId ?? test?.slotId ?? (s.task?.state === 'Upgrade' ? obj(s.task.input)?.slotId : undefined);
    const slot = slotId === undefined || slotId === null ? '?' : String(slotId);
    const sent = entered.has('Reboot status') || answered(s, 'Upgrade');
    plan.running.push(
      `the firmware upgrade: ${name} ${sent ? 'was' : 'may have been'} asked to upgrade into slot ${slot} and may be rebooting`,
    );
    plan.notes.push(
      `nothing was touched after the upgrade request: check ${name} at ${where(plan)} (GET /api/info for its firmware version, GET /api/firmware/slots for the slot it boots)`,
    );
    return;
  }
  if (typeof data?.outcome === 'string') {
    // Past its end state's Pass: only the release and the lifecycle event were left.
    plan.notes.push(`the run had finished its work on ${name} (outcome ${data.outcome}): nothing to clean up`);
    return;
  }
  const fetch = obj(data?.fetch) ?? answered(s, 'Start fetch');
  if (inFlight(s, 'Start fetch')) {
    plan.running.push(
      `perhaps a firmware fetch: the request to start one had not been answered (GET /api/firmware/fetch on ${where(plan)} lists them)`,
    );
  }
  const freed = obj(fetch?.freedSlot);
  if (freed) {
    plan.notes.push(
      `slot ${String(freed.slotId)} (${String(freed.version ?? 'empty')}) of ${name} was deleted to make room (options.freeOldestSlot): that cannot be undone`,
    );
  }
  const key = str(fetch?.key);
  if (!fetch) return;
  if (!key) {
    if (fetch.reused) plan.notes.push(`the firmware was already in a slot of ${name}: nothing was fetched`);
    return;
  }
  if (fetch.reused) {
    plan.running.push(`firmware fetch ${key}: someone else started it (this run followed it); it was left running`);
    return;
  }
  const slotId = obj(fetch.progress)?.slotId ?? obj(data?.test)?.slotId;
  plan.actions.push({
    doing: `canceling firmware fetch ${key} on ${name}`,
    operation: 'cancel-firmware-fetch',
    params: { appliance: data?.appliance, executionId: s.executionId, key, reused: false },
    leftover: `firmware fetch ${key} (GET /api/firmware/fetch/${key} on ${where(plan)})`,
    outcome(result) {
      const r = obj(result) ?? {};
      switch (r.status) {
        case 'canceled':
          return { line: `canceled firmware fetch ${key} on ${name} and removed its record` };
        case 'canceling':
          return {
            line: `asked ${name} to cancel firmware fetch ${key}, but it still runs (its record stays)`,
            stillRunning: `firmware fetch ${key} (GET /api/firmware/fetch/${key} on ${where(plan)})`,
          };
        case 'gone':
          return { line: `firmware fetch ${key} was already gone from ${name}: nothing to cancel` };
        case 'finished':
          return {
            line: `firmware fetch ${key} had finished: removed its record${slotId !== undefined ? ` (the firmware stays in slot ${String(slotId)})` : ''}`,
          };
        default:
          return { line: `firmware fetch ${key} had ended (${String(r.status)}): removed its record` };
      }
    },
  });
}

function bundlePlan(
  s: ExecutionSnapshot,
  plan: CleanupPlan,
  data: Json | undefined,
  archive: ArchiveTarget | undefined,
): void {
  const name = plan.appliance?.name ?? 'the appliance';
  if (inFlight(s, 'Create bundle')) {
    plan.running.push(
      `perhaps a support bundle job: the request to create one had not been answered (GET /api/troubleshooting/support-bundle on ${where(plan)} lists them)`,
    );
  }
  if (inFlight(s, 'Archive')) {
    const input = obj(s.task!.input) ?? {};
    const bucket = str(input.bucket) ?? archive?.defaultBucket ?? '?';
    const bundleKey = str(input.key) ?? '?';
    const objectKey =
      plan.appliance && typeof input.prefix === 'string'
        ? archiveKey(
            input.prefix,
            plan.appliance.name,
            str(input.fileName) ?? `${bundleKey}-debug_info.zip`,
            new Date(typeof input.requestedAt === 'number' ? input.requestedAt : Date.now()),
          )
        : '…';
    const upload = `an unfinished multipart upload of s3://${bucket}/${objectKey} may remain`;
    plan.notes.push(
      archive?.embeddedDir
        ? `the archive upload was cut short: ${upload} in the embedded S3 server's folder ${archive.embeddedDir}/ (it stays there until removed)`
        : `the archive upload was cut short: ${upload} at ${archive?.endpoint ?? 'the S3 endpoint'}; the bucket's lifecycle rule (abort incomplete multipart uploads, as the deployed archive bucket has) removes it`,
    );
  }
  if (str(data?.bundleKey)) {
    // Past the Archived Pass: only the release and the lifecycle event were left.
    plan.notes.push(
      `the run had archived support bundle ${String(data!.bundleKey)} (s3://${String(data!.bucket)}/${String(data!.key)}): nothing to clean up`,
    );
    return;
  }
  const bundle = obj(data?.bundle) ?? answered(s, 'Create bundle');
  const key = str(bundle?.key);
  if (!key) return;
  const removed =
    exitedOutput(s, 'Remove bundle') !== undefined ||
    answered(s, 'Remove bundle') !== undefined ||
    obj(data?.removed) !== undefined ||
    obj(data?.cleanup) !== undefined ||
    answered(s, 'Remove unfinished bundle') !== undefined;
  if (removed) {
    plan.notes.push(`support bundle ${key} had already been removed from ${name}`);
    return;
  }
  const stored = obj(data?.stored) ?? answered(s, 'Archive');
  if (stored && obj(data?.options)?.deleteAfterArchive !== true) {
    plan.notes.push(
      `support bundle ${key} was archived (s3://${String(stored.bucket)}/${String(stored.key)}) and stays on ${name}, as options.deleteAfterArchive asks`,
    );
    return;
  }
  const status = str(obj(bundle?.progress)?.status);
  plan.actions.push({
    doing: `deleting support bundle ${key} on ${name}`,
    operation: 'delete-support-bundle',
    params: { appliance: data?.appliance, executionId: s.executionId, key },
    leftover: `support bundle ${key} (GET /api/troubleshooting/support-bundle/${key} on ${where(plan)})`,
    outcome(result) {
      if (obj(result)?.deleted === false) return { line: `support bundle ${key} was already gone from ${name}` };
      return {
        line:
          status === 'finished'
            ? `deleted support bundle ${key} from ${name}`
            : `deleted support bundle ${key} on ${name} (its generation canceled)`,
      };
    },
  });
}

/** The appliance workflows among a stopped run's children, a child fleet run's included. */
function applianceRuns(stopped: AbortedRun): AbortedRun['children'] {
  return stopped.children.flatMap((child) =>
    child.workflow === 'fleet-run' || child.workflow === 'fleet-upgrade' ? applianceRuns(child.stopped) : [child],
  );
}

/** What to undo after the execution stopped, from the last `$` it had and the operation in flight. */
export function planCleanup(workflow: WorkflowName, snapshot: ExecutionSnapshot, archive?: ArchiveTarget): CleanupPlan {
  // The `$` a Task had when it started: the data of its StateEntered, or the last StateExited.
  const data = obj(snapshot.last?.data);
  const plan: CleanupPlan = {
    appliance: applianceOf(data),
    stoppedIn: snapshot.last?.state,
    actions: [],
    notes: [],
    running: [],
  };
  if (workflow === 'firmware-upgrade') firmwarePlan(snapshot, plan, data);
  else if (workflow === 'support-bundle') bundlePlan(snapshot, plan, data, archive);
  // A preflight only reads: nothing to undo.
  return plan;
}

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const errorText = (err: unknown) =>
  err instanceof Error ? (err.name === 'Error' ? err.message : `${err.name}: ${err.message}`) : String(err);
/** Operations not waited for after a stop: their answer tells the cleanup nothing it needs. */
const LONG_OPERATIONS = new Set(['archive-support-bundle']);
const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A run `supervise` can stop: the engine's handle plus the progress display. */
export interface StoppableRun {
  readonly executionName: string;
  readonly deps: Deps;
  readonly result: Promise<RunResult>;
  snapshot(): ExecutionSnapshot;
  abort(options?: { graceMs?: number }): Promise<AbortedRun>;
  /** Ends the progress display: nothing more is drawn. */
  quiet(): void;
}

export type Supervised = { interrupted: false; result: RunResult } | { interrupted: true; code: number };

/**
 * Watches SIGINT/SIGTERM for one `run`, from before its execution starts until `dispose()`.
 * Before the execution starts, a signal ends the process at once (nothing was asked of the
 * appliance). Once `supervise` watches the execution, the first signal stops it, cleans up what it
 * started (each call bounded), prints what was done and what may still be running on stderr, and
 * `supervise` resolves with the exit code (128 + the signal: 130 for Ctrl-C). A second signal
 * prints what may still be running and exits at once through `control.exit`.
 */
export class InterruptGuard {
  /** The signal that came before the execution started (when `control.exit` returned). */
  stoppedEarly: StopSignal | undefined;
  private signals = 0;
  private run: StoppableRun | undefined;
  private archive: ArchiveTarget | undefined;
  private firstSignal: (signal: StopSignal) => void = () => {};
  private readonly interrupted = new Promise<StopSignal>((resolve) => (this.firstSignal = resolve));
  private plan: CleanupPlan | undefined;
  /** Cleanup calls not (yet) known to have worked. */
  private readonly unsettled = new Set<CleanupAction>();
  /** What the cleanup found or left still running. */
  private readonly stillRunning: string[] = [];
  private readonly stopListening: () => void;

  constructor(
    private readonly workflow: WorkflowName,
    private readonly out: { write(text: string): unknown },
    private readonly control: RunControl,
  ) {
    this.stopListening = control.interrupts.listen((signal) => this.onSignal(signal));
  }

  dispose(): void {
    this.stopListening();
  }

  private onSignal(signal: StopSignal): void {
    this.signals += 1;
    if (this.signals > 1) return this.exitNow(signal);
    if (!this.run) {
      this.stoppedEarly = signal;
      this.out.write(`\n⚠ ${signal} before the execution started: nothing was changed on the appliance.\n`);
      return this.control.exit(exitCodeFor(signal));
    }
    this.firstSignal(signal);
  }

  private exitNow(signal: StopSignal): void {
    const plan = this.plan ?? (this.run && planCleanup(this.workflow, this.run.snapshot(), this.archive));
    const pending = this.plan ? [...this.unsettled] : (plan?.actions ?? []);
    const items = [...pending.map((a) => a.leftover), ...this.stillRunning, ...(plan?.running ?? [])];
    const name = plan?.appliance?.name ?? 'the appliance';
    this.out.write(
      [
        `\n✗ ${signal} again: exiting without finishing the cleanup.`,
        items.length
          ? `May still be running on ${name}:\n${items.map((i) => `  - ${i}`).join('\n')}`
          : `Nothing this run started is known to be running on ${name}.`,
        '',
      ].join('\n'),
    );
    this.control.exit(exitCodeFor(signal));
  }

  /** Waits for the run to end, or for a signal to stop it (then cleans up after it). */
  async supervise(run: StoppableRun, archive?: ArchiveTarget): Promise<Supervised> {
    this.run = run;
    this.archive = archive;
    const first = await Promise.race([
      run.result.then((result) => ({ result })),
      this.interrupted.then((signal) => ({ signal })),
    ]);
    if ('result' in first) return { interrupted: false, result: first.result };
    return this.stop(run, first.signal);
  }

  private async stop(run: StoppableRun, signal: StopSignal): Promise<Supervised> {
    const { out, control } = this;
    run.quiet();
    out.write(
      `\n⚠ ${signal}: stopping execution ${run.executionName} and cleaning up (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again exits at once)\n`,
    );
    let final: RunResult | undefined;
    void run.result.then((r) => (final = r));
    // An operation in flight may answer what cleanup needs (the key of a fetch just started):
    // wait for it a little, but not for an upload that takes minutes.
    const task = run.snapshot().task;
    const longTask = task && !task.settled && LONG_OPERATIONS.has(task.operation);
    const graceMs = longTask ? 0 : (control.graceMs ?? 10_000);
    const slow = setTimeout(() => {
      out.write(`  … waiting up to ${Math.round(graceMs / 1000)} s for "${task?.state}" to answer\n`);
    }, 1000);
    const stopped = await run.abort({ graceMs }).finally(() => clearTimeout(slow));
    await nextTick();
    if (final && final.status !== 'ABORTED') {
      // It ended on its own before the stop took effect: its result stands.
      out.write(`the execution had already ended (${final.status})\n`);
      return { interrupted: false, result: final };
    }
    try {
      return await this.cleanUp(run, stopped, signal);
    } catch (err) {
      // A defect here must not hide what the run was doing.
      out.write(
        `✗ the cleanup failed (${errorText(err)}): the execution stopped in state "${stopped.last?.state ?? '?'}"; check the appliance\n`,
      );
      return { interrupted: true, code: exitCodeFor(signal) };
    }
  }

  private async cleanUp(run: StoppableRun, stopped: AbortedRun, signal: StopSignal): Promise<Supervised> {
    const header = `Interrupted${stopped.last?.state ? ` in state "${stopped.last.state}"` : ''}: execution ${run.executionName} stopped.`;
    if (this.workflow !== 'fleet-run' && this.workflow !== 'fleet-upgrade') {
      const { done, summary } = await this.cleanUpAfter(run.deps, this.workflow, stopped);
      this.out.write([header, ...done, summary, ''].join('\n'));
      return { interrupted: true, code: exitCodeFor(signal) };
    }
    // A fleet run or upgrade: its children (a fleet upgrade's staging run's too) were stopped with
    // it; each appliance's is cleaned up as its own run would be.
    const children = applianceRuns(stopped);
    const lines = [
      header,
      children.length === 0
        ? 'No appliance run was in progress.'
        : `Its ${children.length} running appliance execution(s) were stopped too:`,
    ];
    for (const child of children) {
      const { done, summary } = await this.cleanUpAfter(run.deps, child.workflow, child.stopped);
      const name = this.plan?.appliance?.name ?? '?';
      lines.push(
        `- ${name} (${child.workflow}${child.stopped.last ? `, in state "${child.stopped.last.state}"` : ''}):`,
      );
      lines.push(...[...done, `  ${summary}`].map((line) => `  ${line}`));
    }
    this.out.write([...lines, ''].join('\n'));
    return { interrupted: true, code: exitCodeFor(signal) };
  }

  /** Undoes what one appliance's stopped execution started: the lines to print and the summary. */
  private async cleanUpAfter(
    deps: Deps,
    workflow: WorkflowName,
    stopped: AbortedRun,
  ): Promise<{ done: string[]; summary: string }> {
    const { out, control } = this;
    const plan = (this.plan = planCleanup(workflow, stopped, this.archive));
    for (const action of plan.actions) this.unsettled.add(action);
    const name = plan.appliance?.name ?? 'the appliance';
    const done: string[] = [];
    const stillRunning: string[] = [];
    for (const action of plan.actions) {
      out.write(`  … ${action.doing}\n`);
      try {
        const result = await within(
          OPERATIONS[action.operation].run(action.params, deps),
          control.cleanupTimeoutMs ?? 30_000,
        );
        const outcome = action.outcome(result);
        done.push(`  ✓ ${outcome.line}`);
        if (outcome.stillRunning) stillRunning.push(outcome.stillRunning);
      } catch (err) {
        done.push(`  ✗ ${action.doing} failed: ${errorText(err)}`);
        stillRunning.push(action.leftover);
      }
      this.unsettled.delete(action);
    }
    this.stillRunning.push(...stillRunning);
    if (stopped.lock.taken) {
      done.push(
        stopped.lock.released
          ? `  ✓ appliance ${stopped.lock.appliance} released (its lock lived in this process)`
          : `  ✗ the lock on ${stopped.lock.appliance} could not be released (${stopped.lock.error}); this execution no longer runs, so the next run may take it`,
      );
    }
    for (const note of plan.notes) done.push(`  ! ${note}`);
    const running = [...stillRunning, ...plan.running];
    const changed = plan.actions.length > 0 || plan.notes.length > 0 || running.length > 0;
    const summary = !changed
      ? `Nothing was changed on ${name}.`
      : running.length
        ? `May still be running on ${name}:\n${running.map((r) => `  - ${r}`).join('\n')}`
        : `Nothing this run started is left running on ${name}.`;
    return { done, summary };
  }
}
