import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPERATION_NAMES, substitutionKey } from '../../lambdas/operations';
import { ERROR_NAMES } from '../../lambdas/shared/errors';
import { MAX_TIMEOUT_MINUTES } from '../../lambdas/shared/input';
import { DEFAULT_TIMEOUTS } from '../../lambdas/shared/sps/client';
import { FUNCTIONS, substitutionKey as functionKey } from '../../infra/functions';
import { STATEMACHINES_DIR } from '../../local/engine/engine';

// asl-validator ships CommonJS without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (def: unknown) => {
  isValid: boolean;
  errorsText(sep?: string): string;
};

type State = Record<string, unknown> & { Type: string };
const LAMBDA_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
/** The retry every Lambda task starts with (AWS's recommended set, with backoff and full jitter). */
const LAMBDA_RETRY = {
  ErrorEquals: LAMBDA_ERRORS,
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 30,
  JitterStrategy: 'FULL',
};
const files = readdirSync(STATEMACHINES_DIR).filter((f) => f.endsWith('.asl.json'));
/** The workflows that work on one appliance; the fleet run starts them as children. */
const applianceFiles = ['firmware-upgrade.asl.json', 'support-bundle.asl.json', 'preflight.asl.json'];
type Asl = { States: Record<string, State>; QueryLanguage?: string; TimeoutSeconds: number };
const load = (file: string) => {
  const text = readFileSync(join(STATEMACHINES_DIR, file), 'utf8');
  return { text, asl: JSON.parse(text) as Asl };
};
/** Every state, those of a Map's iterations included. */
const allStates = (asl: { States: Record<string, State> }): Array<[string, State]> =>
  Object.entries(asl.States).flatMap(([name, state]) => [
    [name, state] as [string, State],
    ...(state.ItemProcessor ? allStates(state.ItemProcessor as Asl) : []),
  ]);

describe.each(files)('%s', (file) => {
  const { text, asl } = load(file);
  const states = allStates(asl);

  it('is valid ASL once substituted', () => {
    const substituted = JSON.parse(text.replace(/\$\{(\w+)\}/g, 'arn:aws:lambda:us-east-1:123456789012:function:$1'));
    const result = aslValidator(substituted);
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses JSONPath only (the local engine ignores JSONata silently)', () => {
    expect(asl.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const [, state] of states) {
      expect(state.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
      expect(state).not.toHaveProperty('Arguments');
      expect(state).not.toHaveProperty('Output');
    }
  });

  it('gives every task a timeout, and every Lambda task the one Lambda retry policy first', () => {
    const tasks = states.filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(1);
    for (const [name, task] of tasks) {
      // A timeout the input sets (the approval's) is read by path.
      const timeout = task.TimeoutSecondsPath ? typeof task.TimeoutSecondsPath : typeof task.TimeoutSeconds;
      expect({ name, timeout }).toEqual({ name, timeout: task.TimeoutSecondsPath ? 'string' : 'number' });
      if (String(task.Resource).startsWith('${'))
        expect({ name, retry: (task.Retry as unknown[])[0] }).toEqual({ name, retry: LAMBDA_RETRY });
    }
  });

  it('names in its ${...} substitutions only functions that exist, the event bus, and the state machine ARN prefix for children', () => {
    const keys = [...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]);
    const known = new Set([...OPERATION_NAMES.map(substitutionKey), 'StateMachineArnPrefix', 'EventBusArn']);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(known).toContain(key);
  });

  it('lets every SPS call report a hung appliance by name: its task outlasts its function, which outlasts a login and a call that both hang', () => {
    const { connectMs, headersMs } = DEFAULT_TIMEOUTS;
    for (const [name, task] of states.filter(([, s]) => s.Type === 'Task' && String(s.Resource).startsWith('${'))) {
      const spec = FUNCTIONS.find((f) => `\${${functionKey(f.name)}}` === task.Resource)!;
      // A minute more than the function: a cold start in a VPC must not turn its named error into States.Timeout.
      expect({ name, task: (task.TimeoutSeconds as number) >= spec.timeoutSeconds + 60 }).toEqual({ name, task: true });
      if (spec.sps)
        expect({ name, fn: spec.timeoutSeconds * 1000 >= 2 * (connectMs + headersMs) }).toEqual({ name, fn: true });
    }
  });

  it('never retries SPS calls blindly: no States.ALL or POST-operation errors in Retry', () => {
    for (const [name, state] of states) {
      for (const r of (state.Retry as Array<{ ErrorEquals: string[] }> | undefined) ?? []) {
        expect({ name, all: r.ErrorEquals.includes('States.ALL') }).toEqual({ name, all: false });
        expect({ name, precheck: r.ErrorEquals.includes('Sps.PrecheckFailed') }).toEqual({ name, precheck: false });
      }
    }
  });

  it('names in Retry and Catch only errors that exist (a typo would silently disable a retry)', () => {
    const known = new Set<string>(ERROR_NAMES);
    const service = /^(States|Lambda|EventBridge|StepFunctions)\./;
    for (const [name, state] of states) {
      const policies = [...((state.Retry as unknown[]) ?? []), ...((state.Catch as unknown[]) ?? [])] as Array<{
        ErrorEquals: string[];
      }>;
      for (const error of policies.flatMap((p) => p.ErrorEquals).filter((e) => !service.test(e)))
        expect({ name, error, known: known.has(error) }).toEqual({ name, error, known: true });
    }
  });
});

describe.each(applianceFiles)('%s', (file) => {
  const { asl } = load(file);
  const states = Object.entries(asl.States);

  it('catches every Lambda task failure, to clean up and release the appliance', () => {
    for (const [name, task] of states.filter(([, s]) => s.Type === 'Task' && String(s.Resource).startsWith('${'))) {
      const catchers = (task.Catch as Array<{ ErrorEquals: string[] }> | undefined) ?? [];
      expect({ name, catchAll: catchers.at(-1)?.ErrorEquals }).toEqual({ name, catchAll: ['States.ALL'] });
    }
  });

  it('outlives the longest waits its input allows, so each ends in Sps.Timeout and its cleanup, never TIMED_OUT', () => {
    const { fetchMinutes, rebootMinutes, generateMinutes } = MAX_TIMEOUT_MINUTES;
    const waits = file.startsWith('firmware')
      ? fetchMinutes + rebootMinutes
      : file.startsWith('support')
        ? generateMinutes
        : 30; // the preflight has no wait of its own: the lock's 30 minutes
    // An hour more for the steps around the waits (an archive may take four 15-minute attempts).
    expect(asl.TimeoutSeconds).toBeGreaterThanOrEqual(waits * 60 + 3600);
  });
});

describe('fleet-run.asl.json', () => {
  const { asl } = load('fleet-run.asl.json');
  const states = allStates(asl);
  const child = states.find(([, s]) => s.Resource === 'arn:aws:states:::states:startExecution.sync:2')?.[1];

  it('waits for a child longer than any child may run, and outlives a day of children', () => {
    const longest = Math.max(...applianceFiles.map((f) => load(f).asl.TimeoutSeconds));
    expect(child!.TimeoutSeconds).toBeGreaterThan(longest);
    expect(asl.TimeoutSeconds).toBeGreaterThanOrEqual(7 * 86400);
  });

  it('records every way a child can end (failed, stopped, never started) instead of failing the Map', () => {
    const catchers = (child!.Catch as Array<{ ErrorEquals: string[] }>).map((c) => c.ErrorEquals);
    expect(catchers).toEqual([['States.TaskFailed'], ['States.ALL']]);
    expect(states.filter(([, s]) => s.Type === 'Fail').map(([, s]) => s.Error)).toEqual(['Fleet.ChildrenFailed']);
  });
});

describe.each(applianceFiles)('%s lifecycle events', (file) => {
  const { asl } = load(file);
  const states = Object.entries(asl.States);

  it('publishes an event on every end: each Task failure and every success goes through a publish state', () => {
    for (const [name, state] of states) {
      if (state.Type === 'Succeed' || state.Type === 'Fail') continue;
      if (String(state.Resource).includes('events:putEvents')) {
        expect(state.Retry).toBeDefined();
        continue;
      }
      expect({ name, end: state.End }).toEqual({ name, end: undefined });
      if (state.Type === 'Task') {
        const catchers = (state.Catch as Array<{ ErrorEquals: string[]; Next: string }> | undefined) ?? [];
        expect({ name, catchesAll: catchers.some((c) => c.ErrorEquals.includes('States.ALL')) }).toEqual({
          name,
          catchesAll: true,
        });
      }
    }
    const reachesSucceed = states.filter(([, s]) => s.Next === 'Succeeded').map(([n]) => n);
    expect(reachesSucceed).toEqual(['Publish success']);
  });
});

it('writes the states both appliance workflows share the same way (the lock, the releases, the invalid-input end)', () => {
  const [a, ...others] = applianceFiles.map((f) => load(f).asl.States);
  const shared = [
    'Validate input',
    'Publish invalid input',
    'Invalid input',
    'Take the appliance',
    'Release the appliance',
    'Release the appliance after failure',
    'Publish success',
    'Publish failure',
    'Succeeded',
    'Failed',
  ];
  // The workflow's own name and event detail types are the only differences allowed.
  const neutral = (state: State) =>
    JSON.stringify(state)
      .replace(/firmware-upgrade|support-bundle|preflight/g, '<workflow>')
      .replace(
        /Firmware Upgrade (Succeeded|Failed)|Support Bundle (Archived|Failed)|Preflight (Checked|Failed)/g,
        '<event>',
      );
  for (const b of others)
    for (const name of shared) expect({ name, state: neutral(a![name]!) }).toEqual({ name, state: neutral(b[name]!) });
});

it('knows every workflow', () => {
  expect(files.sort()).toEqual([
    'firmware-upgrade.asl.json',
    'fleet-run.asl.json',
    'fleet-upgrade.asl.json',
    'preflight.asl.json',
    'support-bundle.asl.json',
  ]);
});
