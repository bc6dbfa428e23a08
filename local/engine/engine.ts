import './with-resolvers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { OPERATIONS, substitutionKey } from '../../lambdas/operations';
import type { Deps, Operation } from '../../lambdas/shared/operation';
import { LocalLockStore } from './adapters';

export type WorkflowName = 'firmware-upgrade' | 'support-bundle';

export const STATEMACHINES_DIR = join(__dirname, '..', '..', 'statemachines');
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const LOCAL_WAIT_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:local-wait`;
const functionArn = (operation: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:sps-workflows-${operation}`;

/** One event of the execution's history, as the local engine reports it. */
export interface HistoryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: string;
  [key: string]: unknown;
}

export interface RunResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  events: HistoryEvent[];
}

export interface RunOptions {
  workflow: WorkflowName;
  input: unknown;
  deps: Deps;
  /** How a Wait state passes: advance the simulator's clock, or really sleep. */
  wait(seconds: number): Promise<void>;
  onEvent?(event: HistoryEvent): void;
  /** Lifecycle events the workflow puts on the EventBridge default bus (AWS); locally handed here. */
  onLifecycleEvent?(entry: LifecycleEvent): void;
  executionName?: string;
}

export interface LifecycleEvent {
  Source: string;
  DetailType: string;
  Detail: Record<string, unknown>;
}

const PUT_EVENTS = 'arn:aws:states:::events:putEvents';

type StateDef = Record<string, unknown> & { Type: string };

/** Reads an ASL file with every `${XFunctionArn}` replaced by a local placeholder ARN. */
export function loadDefinition(workflow: WorkflowName): {
  definition: StateMachineDefinition;
  operationByArn: Map<string, string>;
} {
  const operationByArn = new Map<string, string>();
  const text = readFileSync(join(STATEMACHINES_DIR, `${workflow}.asl.json`), 'utf8').replace(
    /\$\{([A-Za-z0-9]+)\}/g,
    (whole, key: string) => {
      const name = Object.keys(OPERATIONS).find((op) => substitutionKey(op) === key);
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
  const states = definition.States as unknown as Record<string, StateDef>;
  const plan = new Map<string, StatePlan & { retries: boolean }>();
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
    } else if (state.Type === 'Task') {
      const operationName = operationByArn.get(state.Resource as string);
      const operation = operationName ? OPERATIONS[operationName] : undefined;
      if (!operation) throw new Error(`${workflow}: state "${name}" calls unknown resource ${String(state.Resource)}`);
      plan.set(name, { kind: 'operation', operation, retries });
    } else {
      plan.set(name, { kind: 'other', retries });
    }
  }
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

/**
 * Runs a workflow's real ASL in-process (aws-local-stepfunctions) with the real handlers.
 * Wait states become local Tasks that call `wait` (the engine can only skip or sleep a fixed time,
 * and the simulator needs its clock advanced by the requested seconds); retry intervals are zero.
 * Handler errors are reported as Lambda reports them: name as the error, the Lambda error JSON as cause.
 */
export async function runWorkflow(options: RunOptions): Promise<RunResult> {
  const { machine, plan } = prepare(options.workflow);
  const deps = options.deps.locks ? options.deps : { ...options.deps, locks: LOCAL_LOCKS };
  const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryIntervals: Record<string, number> = {};
  for (const [name, step] of plan) {
    if (step.retries) retryIntervals[name] = 0;
    if (step.kind === 'wait') {
      taskHandlers[name] = async (input) => {
        await options.wait(Number(step.seconds ?? readPath(input, step.secondsPath ?? '$')));
        return {};
      };
    } else if (step.kind === 'events') {
      taskHandlers[name] = async (input) => {
        for (const entry of (input as { Entries: LifecycleEvent[] }).Entries) options.onLifecycleEvent?.(entry);
        return { FailedEntryCount: 0, Entries: [{ EventId: `local-${Date.now()}` }] };
      };
    } else if (step.kind === 'operation') {
      taskHandlers[name] = async (input) => {
        try {
          return await step.operation.run(input, deps);
        } catch (err) {
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
    } as never,
  });

  const events: HistoryEvent[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as unknown as HistoryEvent;
      events.push(e);
      options.onEvent?.(e);
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    return { status: 'SUCCEEDED', output, events };
  } catch (err) {
    await collecting;
    const failure = err instanceof ExecutionError && err.cause instanceof Error ? err.cause : (err as Error);
    return { status: 'FAILED', error: failure.name, cause: failure.message, events };
  } finally {
    RUNNING.delete(executionId);
  }
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
