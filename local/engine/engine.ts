import './with-resolvers';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ExecutionAbortedError,
  ExecutionError,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { OPERATION_NAMES, OPERATIONS, substitutionKey, type OperationName } from '../../lambdas/operations';
import type { Deps, Operation } from '../../lambdas/shared/operation';
import { LocalLockStore } from './adapters';

export type WorkflowName = 'firmware-upgrade' | 'support-bundle' | 'preflight' | 'fleet-run' | 'fleet-upgrade';
export const WORKFLOW_NAMES: readonly WorkflowName[] = [
  'firmware-upgrade',
  'support-bundle',
  'preflight',
  'fleet-run',
  'fleet-upgrade',
];

export const STATEMACHINES_DIR = join(__dirname, '..', '..', 'statemachines');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const LOCAL_WAIT_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:local-wait`;
const functionArn = (operation: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sps-workflows-${operation}`;
/** A fleet run names its children's state machine as this prefix and the workflow's name. */
const STATE_MACHINE_ARN_PREFIX = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:sps-workflows-`;
const START_CHILD = 'arn:aws:states:::states:startExecution.sync:2';
/** Lifecycle events go to the stack's bus; locally to `onLifecycleEvent`. */
const LOCAL_EVENT_BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/sps-workflows`;

/** One event of the execution's history, as the local engine reports it. */
export interface HistoryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  /** The operation a Task state calls (local annotation: the progress display keys on it, not on state names). */
  operation?: OperationName;
  Error?: string;
  Cause?: string;
  [key: string]: unknown;
}

export interface RunResult {
  /** `ABORTED`: stopped by `RunningWorkflow.abort()` (the CLI on Ctrl-C). */
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  output?: unknown;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
}

export interface RunOptions {
  workflow: WorkflowName;
  input: unknown;
  deps: Deps;
  /**
   * How a Wait state passes: advance the simulator's clock, or really sleep. `signal` is aborted
   * when the execution is: a long sleep may end early then (nothing waits for it any more).
   */
  wait(seconds: number, signal?: AbortSignal): Promise<void>;
  onEvent?(event: HistoryEvent): void;
  /** Lifecycle events the workflow puts on the EventBridge default bus (AWS); locally handed here. */
  onLifecycleEvent?(entry: LifecycleEvent): void;
  /**
   * A fleet run is about to start a child execution: what to hand its events to (by default the
   * child's events are not reported; its lifecycle events go to `onLifecycleEvent`).
   */
  onChild?(workflow: WorkflowName, input: unknown): Pick<RunOptions, 'onEvent'> | void;
  /**
   * A fleet upgrade waits for a person (README, "Fleet upgrade"): the request as the event carries
   * it (its `taskToken` included), and the answer. Without it, or when the answer takes longer than
   * the request's `timeoutSeconds` (waited out with `wait`), the approval times out.
   */
  onApprovalRequest?(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer>;
  executionName?: string;
}

export interface ApprovalRequest {
  executionId: string;
  taskToken: string;
  timeoutSeconds: number;
  detail: Record<string, unknown>;
}

/** What `send-task-success` (approve) or `send-task-failure` (reject, with a reason) would send. */
export type ApprovalAnswer = { approved: true; by?: string } | { approved: false; reason?: string };

/** The operation a Task state is running (its handler called, its answer not yet returned). */
export interface InFlightTask {
  state: string;
  operation: string;
  /** The operation's parameters (the state's `Parameters` applied). */
  input: unknown;
  settled: boolean;
  /** What the operation returned, once it did (before the state's ResultSelector and ResultPath). */
  result?: unknown;
  /** The error it ended with, `Name: message`. */
  error?: string;
}

/** What the execution knew: its events so far and the latest state's `$`. */
export interface ExecutionSnapshot {
  executionId: string;
  events: HistoryEvent[];
  /**
   * The `$` of the latest StateEntered (its input) or StateExited (its output) event: what the
   * workflow knew when it stopped. Undefined before the first state.
   */
  last?: { state: string; event: 'StateEntered' | 'StateExited'; data: unknown };
  /** The latest operation called, settled or not. */
  task?: InFlightTask;
}

/** The execution after `abort()`: its snapshot, and the appliance lock it may have held. */
export interface AbortedRun extends ExecutionSnapshot {
  /**
   * The execution is no longer among the running ones (a local lock it held is free to anyone);
   * `released` says whether the lock store also dropped it (`error` if that failed).
   */
  lock: { appliance?: string; taken: boolean; released: boolean; error?: string };
  /** A fleet run's child executions that were still running, each stopped the same way. */
  children: Array<{ workflow: WorkflowName; stopped: AbortedRun }>;
}

/** An execution started by `startWorkflow`. */
export interface RunningWorkflow {
  readonly executionId: string;
  readonly executionName: string;
  /** The deps the operations run with (the local lock store added): cleanup uses the same. */
  readonly deps: Deps;
  /** The end of the execution; `ABORTED` after `abort()`. */
  readonly result: Promise<RunResult>;
  /** What the execution knows now (events collected so far). */
  snapshot(): ExecutionSnapshot;
  /**
   * Stops the execution: no further state starts and no further operation is called. Waits up to
   * `graceMs` (default 10 s) for an operation already called to return (its answer, such as the
   * key of a fetch just started, is then in `task`), releases the appliance lock if it was taken,
   * and resolves with what was known. Calling it again returns the same promise.
   */
  abort(options?: { graceMs?: number }): Promise<AbortedRun>;
}

export interface LifecycleEvent {
  Source: string;
  DetailType: string;
  Detail: Record<string, unknown>;
}

const PUT_EVENTS = 'arn:aws:states:::events:putEvents';
const PUT_EVENTS_AND_WAIT = 'arn:aws:states:::events:putEvents.waitForTaskToken';

type StateDef = Record<string, unknown> & { Type: string };

/** Reads an ASL file with every `${XFunctionArn}` replaced by a local placeholder ARN. */
export function loadDefinition(workflow: WorkflowName): {
  definition: StateMachineDefinition;
  operationByArn: Map<string, OperationName>;
} {
  const operationByArn = new Map<string, OperationName>();
  const text = readFileSync(join(STATEMACHINES_DIR, `${workflow}.asl.json`), 'utf8').replace(
    /\$\{([A-Za-z0-9]+)\}/g,
    (whole, key: string) => {
      if (key === 'StateMachineArnPrefix') return STATE_MACHINE_ARN_PREFIX;
      if (key === 'EventBusArn') return LOCAL_EVENT_BUS_ARN;
      const name = OPERATION_NAMES.find((op) => substitutionKey(op) === key);
      if (!name) throw new Error(`${workflow}.asl.json: no operation for substitution ${whole}`);
      operationByArn.set(functionArn(name), name);
      return functionArn(name);
    },
  );
  return { definition: JSON.parse(text) as StateMachineDefinition, operationByArn };
}

/** Simple `$.a.b` paths, which is all the Wait states use. */
function readPath(input: unknown, path: string): unknown {
  return path
    .replace(/^\$\.?/, '')
    .split('.')
    .filter(Boolean)
    .reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], input);
}

type StatePlan =
  | { kind: 'wait'; seconds?: number; secondsPath?: string }
  | { kind: 'events' }
  /** `map`: the Map state whose iterations start it, if any. */
  | { kind: 'child'; map?: string }
  | { kind: 'approval' }
  | { kind: 'operation'; operation: Operation<unknown> }
  | { kind: 'other' };

/** The local form of a workflow (Wait states as local Tasks), validated once and reused. */
const prepared = new Map<
  WorkflowName,
  { machine: StateMachine; plan: Map<string, StatePlan & { retries: boolean }> }
>();

function prepare(workflow: WorkflowName) {
  let entry = prepared.get(workflow);
  if (entry) return entry;
  const { definition, operationByArn } = loadDefinition(workflow);
  const plan = new Map<string, StatePlan & { retries: boolean }>();
  // Overrides are keyed by state name: the states of a Map's iterations are planned alike.
  const planStates = (states: Record<string, StateDef>, map?: string) => {
    for (const [name, state] of Object.entries(states)) {
      const retries = Boolean(state.Retry);
      if (state.Type === 'Wait') {
        plan.set(name, {
          kind: 'wait',
          seconds: state.Seconds as number | undefined,
          secondsPath: state.SecondsPath as string | undefined,
          retries,
        });
        states[name] = { Type: 'Task', Resource: LOCAL_WAIT_ARN, ResultPath: null, Next: state.Next } as StateDef;
      } else if (state.Type === 'Task' && state.Resource === PUT_EVENTS) {
        plan.set(name, { kind: 'events', retries });
      } else if (state.Type === 'Task' && state.Resource === PUT_EVENTS_AND_WAIT) {
        plan.set(name, { kind: 'approval', retries });
        // The engine would read TimeoutSecondsPath from the task's parameters and time it in real
        // time: the local handler waits the request's timeoutSeconds out itself (with `wait`).
        delete state.TimeoutSecondsPath;
        state.TimeoutSeconds = 2_000_000;
      } else if (state.Type === 'Task' && state.Resource === START_CHILD) {
        plan.set(name, { kind: 'child', map, retries });
      } else if (state.Type === 'Task') {
        const operationName = operationByArn.get(state.Resource as string);
        const operation = operationName ? OPERATIONS[operationName] : undefined;
        if (!operation)
          throw new Error(`${workflow}: state "${name}" calls unknown resource ${String(state.Resource)}`);
        plan.set(name, { kind: 'operation', operation, retries });
      } else {
        plan.set(name, { kind: 'other', retries });
        const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, StateDef> } | undefined;
        if (processor) planStates(processor.States, name);
      }
    }
  };
  planStates(definition.States as unknown as Record<string, StateDef>);
  const machine = new StateMachine(definition, { validationOptions: { checkArn: true, checkPaths: true } });
  entry = { machine, plan };
  prepared.set(workflow, entry);
  return entry;
}

/** The executions this process is running: a lock whose holder is not among them is free. */
const RUNNING = new Set<string>();
let executionCount = 0;
/** The appliance locks of local runs: shared by every execution in this process. */
const LOCAL_LOCKS = new LocalLockStore((execution) => RUNNING.has(execution));

/** The appliance locks local runs took and did not release (the soak's leak check). */
export const heldLocalLocks = () => LOCAL_LOCKS.held();

/**
 * Runs a workflow's real ASL in-process (aws-local-stepfunctions) with the real handlers.
 * Wait states become local Tasks that call `wait` (the engine can only skip or sleep a fixed time,
 * and the simulator needs its clock advanced by the requested seconds); retry intervals are zero.
 * Handler errors are reported as Lambda reports them: name as the error, the Lambda error JSON as cause.
 */
export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  return startWorkflow(options).result;
}

const errorLine = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** Resolves after `ms`; the timer never keeps the process up. */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Like `runWorkflow`, and the execution can be stopped (`abort()`) and looked into while it runs. */
export function startWorkflow(options: RunOptions): RunningWorkflow {
  const { machine, plan } = prepare(options.workflow);
  const deps = options.deps.locks ? options.deps : { ...options.deps, locks: LOCAL_LOCKS };
  const stop = new AbortController();
  const stopped = new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve()));
  let task: (InFlightTask & { done: Promise<unknown> }) | undefined;
  const lock = { appliance: undefined as string | undefined, taken: false, released: false };
  const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  /** Map states with a failed iteration since they were last entered: they start no more children. */
  const failedMaps = new Set<string>();
  /** A fleet run's child executions still running: stopped with it. */
  const children = new Map<RunningWorkflow, WorkflowName>();
  const retryIntervals: Record<string, number> = {};
  for (const [name, step] of plan) {
    if (step.retries) retryIntervals[name] = 0;
    if (step.kind === 'wait') {
      taskHandlers[name] = async (input) => {
        if (stop.signal.aborted) throw new ExecutionAbortedError();
        await Promise.race([
          options.wait(Number(step.seconds ?? readPath(input, step.secondsPath ?? '$')), stop.signal),
          stopped,
        ]);
        return {};
      };
    } else if (step.kind === 'events') {
      taskHandlers[name] = async (input) => {
        if (stop.signal.aborted) throw new ExecutionAbortedError();
        const entries = (input as { Entries: Array<LifecycleEvent & { EventBusName?: string }> }).Entries;
        // Every entry goes to the stack's bus: the event is what a listener sees.
        for (const { EventBusName: _bus, ...entry } of entries) options.onLifecycleEvent?.(entry);
        return { FailedEntryCount: 0, Entries: [{ EventId: `local-${Date.now()}` }] };
      };
    } else if (step.kind === 'approval') {
      taskHandlers[name] = async (input) => {
        if (stop.signal.aborted) throw new ExecutionAbortedError();
        const [{ EventBusName: _bus, ...entry }] = (
          input as { Entries: Array<LifecycleEvent & { EventBusName?: string }> }
        ).Entries as [LifecycleEvent & { EventBusName?: string }];
        options.onLifecycleEvent?.(entry);
        const timeoutSeconds = Number(entry.Detail.timeoutSeconds);
        // Ends with the answer, the timeout or the execution's stop, whichever comes first.
        const answered = new AbortController();
        const signal = AbortSignal.any([stop.signal, answered.signal]);
        try {
          const answer = await Promise.race([
            options.onApprovalRequest?.(
              { executionId, taskToken: String(entry.Detail.taskToken), timeoutSeconds, detail: entry.Detail },
              signal,
            ) ?? new Promise<never>(() => undefined),
            options.wait(timeoutSeconds, signal).then(() => 'timeout' as const),
          ]);
          if (stop.signal.aborted) throw new ExecutionAbortedError();
          if (answer === 'timeout') throw Object.assign(new Error('Task timed out'), { name: 'States.Timeout' });
          if (!answer.approved) {
            // As `send-task-failure --error Fleet.Rejected --cause <reason>` fails the task.
            throw Object.assign(new Error(answer.reason ?? ''), { name: 'Fleet.Rejected' });
          }
          return { approved: true, ...(answer.by ? { by: answer.by } : {}) };
        } catch (err) {
          if (stop.signal.aborted) throw new ExecutionAbortedError();
          throw err;
        } finally {
          answered.abort();
        }
      };
    } else if (step.kind === 'child') {
      taskHandlers[name] = async (input) => {
        if (stop.signal.aborted) throw new ExecutionAbortedError();
        if (step.map) {
          // aws-local-stepfunctions 3.0.0 still starts a failed Map's queued iterations (it stops
          // only the running ones); Step Functions starts none. Once the events of the iteration
          // that failed are in (a macrotask later), a queued one starts no child execution.
          await new Promise((resolve) => setImmediate(resolve));
          if (failedMaps.has(step.map)) {
            throw Object.assign(new Error(`${step.map} failed: this iteration was not started`), {
              name: 'States.Runtime',
            });
          }
        }
        const { StateMachineArn: arn, Input: childInput } = input as { StateMachineArn: string; Input: unknown };
        const workflow = WORKFLOW_NAMES.find((w) => arn === `${STATE_MACHINE_ARN_PREFIX}${w}`);
        if (!workflow) {
          const missing = new Error(`State Machine Does Not Exist: '${arn}'`);
          missing.name = 'StepFunctions.StateMachineDoesNotExistException';
          throw missing;
        }
        const child = startWorkflow({
          ...options,
          workflow,
          input: childInput,
          executionName: undefined,
          onEvent: undefined,
          ...options.onChild?.(workflow, childInput),
        });
        children.set(child, workflow);
        const result = await child.result.finally(() => children.delete(child));
        // What `states:startExecution.sync:2` answers: the child's DescribeExecution, its output
        // parsed; a child that did not succeed fails the task with that answer as JSON cause.
        const described = { ExecutionArn: child.executionId, StateMachineArn: arn, Name: child.executionName };
        if (result.status === 'SUCCEEDED') return { ...described, Status: 'SUCCEEDED', Output: result.output };
        const failed = new Error(
          JSON.stringify({
            ...described,
            Status: result.status,
            ...(result.error ? { Error: result.error, Cause: result.cause } : {}),
          }),
        );
        failed.name = 'States.TaskFailed';
        throw failed;
      };
    } else if (step.kind === 'operation') {
      taskHandlers[name] = async (input) => {
        // A stopped execution calls nothing more (a retry of the state in flight included).
        if (stop.signal.aborted) throw new ExecutionAbortedError();
        const operation = step.operation.name;
        if (operation === 'acquire-appliance-lock') {
          lock.appliance = (input as { applianceName?: string }).applianceName;
          lock.taken = true;
        }
        const done = step.operation.run(input, deps);
        const current = (task = { state: name, operation, input, settled: false, done });
        try {
          const result = await done;
          Object.assign(current, { settled: true, result });
          if (operation === 'release-appliance-lock') lock.released = true;
          return result;
        } catch (err) {
          Object.assign(current, { settled: true, error: errorLine(err) });
          const e = err instanceof Error ? err : new Error(String(err));
          const lambdaError = new Error(JSON.stringify({ errorType: e.name, errorMessage: e.message }));
          lambdaError.name = e.name;
          throw lambdaError;
        }
      };
    }
  }

  const executionName = options.executionName ?? `local-${Date.now().toString(36)}-${++executionCount}`;
  const executionId = `arn:aws:states:${REGION}:${ACCOUNT}:execution:sps-workflows-${options.workflow}:${executionName}`;
  RUNNING.add(executionId);
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, retryIntervalOverrides: retryIntervals },
    context: {
      Execution: {
        Id: executionId,
        Name: executionName,
        Input: options.input as never,
        StartTime: new Date().toISOString(),
      },
      StateMachine: {
        Id: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:sps-workflows-${options.workflow}`,
        Name: `sps-workflows-${options.workflow}`,
      },
      // `$$.Task.Token` of a task that waits for one (the approval): one per execution, as one waits at a time.
      Task: { Token: `local-token-${randomUUID()}` },
    } as never,
  });

  const events: HistoryEvent[] = [];
  let last: ExecutionSnapshot['last'];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as unknown as HistoryEvent;
      const step = e.state ? plan.get(e.state.name) : undefined;
      if (step?.kind === 'operation') e.operation = step.operation.name as OperationName;
      events.push(e);
      const map = (e.parentState as { name?: string } | undefined)?.name;
      if (e.type === 'MapIterationFailed' && map) failedMaps.add(map);
      if (e.type === 'StateEntered' && e.state) failedMaps.delete(e.state.name);
      if (e.state && (e.type === 'StateEntered' || e.type === 'StateExited')) {
        last = {
          state: e.state.name,
          event: e.type,
          data: e.type === 'StateEntered' ? e.state.input : e.state.output,
        };
      }
      options.onEvent?.(e);
    }
  })();

  const result = (async (): Promise<RunResult> => {
    try {
      const output = await execution.result;
      await collecting;
      return { status: 'SUCCEEDED', output, events };
    } catch (err) {
      await collecting;
      if (err instanceof ExecutionAbortedError) return { status: 'ABORTED', events };
      const failure = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : (err as Error);
      return { status: 'FAILED', error: failure.name, cause: failure.message, events };
    } finally {
      RUNNING.delete(executionId);
    }
  })();

  const snapshot = (): ExecutionSnapshot => {
    const current: InFlightTask | undefined = task && {
      state: task.state,
      operation: task.operation,
      input: task.input,
      settled: task.settled,
      result: task.result,
      error: task.error,
    };
    return { executionId, events: [...events], last, task: current };
  };

  let aborting: Promise<AbortedRun> | undefined;
  const abort = ({ graceMs = 10_000 }: { graceMs?: number } = {}): Promise<AbortedRun> =>
    (aborting ??= (async () => {
      stop.abort();
      execution.abort();
      // No longer running: a local lock this execution holds is free to any other from now on.
      RUNNING.delete(executionId);
      const stoppedChildren = await Promise.all(
        [...children].map(async ([child, workflow]) => ({ workflow, stopped: await child.abort({ graceMs }) })),
      );
      const inFlight = task && !task.settled ? task : undefined;
      if (inFlight) await Promise.race([inFlight.done.catch(() => undefined), pause(graceMs)]);
      await collecting;
      const outcome: AbortedRun = { ...snapshot(), lock: { ...lock }, children: stoppedChildren };
      if (lock.taken && !lock.released && lock.appliance && deps.locks) {
        try {
          await Promise.race([
            deps.locks.release(lock.appliance, executionId),
            pause(graceMs).then(() => {
              throw new Error(`no answer from the lock store in ${graceMs} ms`);
            }),
          ]);
          outcome.lock.released = true;
        } catch (err) {
          outcome.lock.error = errorLine(err);
        }
      }
      return outcome;
    })());

  return { executionId, executionName, deps, result, snapshot, abort };
}

/** The readable part of a Lambda-style cause (`{"errorType","errorMessage"}`), else the cause itself. */
export function causeMessage(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}
