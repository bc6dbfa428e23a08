import * as z from 'zod/mini';
import { NamedError } from './errors';
import { map } from './zod';

/*
 * The public inputs (README, "Firmware upgrade" and "Support-bundle archival"), validated before the first request to an
 * appliance. Objects are strict: a misspelt option (`dryrun`) is an error, not a silent default. Every message names the
 * field and its rule, never the value given: a field may hold a secret pasted by mistake.
 */

export type WorkflowInput = 'firmware-upgrade' | 'support-bundle' | 'preflight' | 'fleet-run' | 'fleet-upgrade';
const BOTH: readonly WorkflowInput[] = ['firmware-upgrade', 'support-bundle'];
const ROLLOUT: readonly WorkflowInput[] = ['fleet-upgrade'];
const ALL_APPLIANCE: readonly WorkflowInput[] = ['firmware-upgrade', 'support-bundle', 'preflight'];
const PREFLIGHT: readonly WorkflowInput[] = ['preflight'];
const UPGRADE: readonly WorkflowInput[] = ['firmware-upgrade'];
const BUNDLE: readonly WorkflowInput[] = ['support-bundle'];
const FLEET: readonly WorkflowInput[] = ['fleet-run'];

/** The range of one input field, and its default: an integer in seconds or minutes, or a text's length. */
export interface InputLimit {
  workflows: readonly WorkflowInput[];
  unit: 'seconds' | 'minutes' | 'characters' | 'executions' | 'percent' | 'sessions' | 'appliances';
  min: number;
  max: number;
  /** When left out (text where the default is derived). */
  default?: number | string;
}

/**
 * Every limit of the inputs, by field path: the schemas below and their messages read it, and so
 * can the README's input tables. Timeouts and polling defaults are adjusted to fit each other
 * (`settlePolling`).
 */
export const INPUT_LIMITS = {
  'appliance.name': { workflows: ALL_APPLIANCE, unit: 'characters', min: 1, max: 63 },
  'appliance.credentialsSecretId': {
    workflows: ALL_APPLIANCE,
    unit: 'characters',
    min: 1,
    max: 2048,
    default: '<credentialsSecretPrefix><name>',
  },
  'firmware.expectedVersion': { workflows: UPGRADE, unit: 'characters', min: 1, max: 64 },
  targetVersion: { workflows: PREFLIGHT, unit: 'characters', min: 1, max: 64 },
  'options.minFreeDiskPercent': { workflows: PREFLIGHT, unit: 'percent', min: 0, max: 100, default: 10 },
  'options.maxActiveSessions': { workflows: PREFLIGHT, unit: 'sessions', min: 0, max: 100000, default: 'none' },
  'options.upgradeMessage': {
    workflows: UPGRADE,
    unit: 'characters',
    min: 1,
    max: 1000,
    default: 'Upgrade to <expectedVersion> by sps-workflows',
  },
  'options.polling.minSeconds': { workflows: BOTH, unit: 'seconds', min: 5, max: 3600, default: 10 },
  'options.polling.maxSeconds': { workflows: BOTH, unit: 'seconds', min: 5, max: 3600, default: 300 },
  'options.timeouts.fetchMinutes': { workflows: UPGRADE, unit: 'minutes', min: 1, max: 1440, default: 120 },
  'options.timeouts.rebootMinutes': { workflows: UPGRADE, unit: 'minutes', min: 1, max: 240, default: 45 },
  'options.timeouts.generateMinutes': { workflows: BUNDLE, unit: 'minutes', min: 1, max: 1440, default: 30 },
  'archive.bucket': { workflows: BUNDLE, unit: 'characters', min: 3, max: 63, default: "the stack's archive bucket" },
  'archive.prefix': { workflows: BUNDLE, unit: 'characters', min: 0, max: 512, default: 'support-bundles/' },
  // An inline Map runs at most 40 iterations at a time.
  maxConcurrency: {
    workflows: FLEET,
    unit: 'executions',
    min: 1,
    max: 40,
    default: 'support-bundle: 10, preflight: 10, firmware-upgrade: 1',
  },
  'rollout.canary': { workflows: ROLLOUT, unit: 'appliances', min: 0, max: 1000, default: 1 },
  'rollout.maxConcurrency': { workflows: ROLLOUT, unit: 'appliances', min: 1, max: 40, default: 4 },
  'rollout.maxFailures': { workflows: ROLLOUT, unit: 'appliances', min: 0, max: 1000, default: 0 },
  'rollout.approvalTimeoutMinutes': { workflows: ROLLOUT, unit: 'minutes', min: 5, max: 10080, default: 1440 },
} as const satisfies Record<string, InputLimit>;
type LimitName = keyof typeof INPUT_LIMITS;
type Timeout = 'fetchMinutes' | 'rebootMinutes' | 'generateMinutes';

/**
 * Each poll loop costs about 10 history events per iteration; a Standard execution holds 25,000.
 * Capping iterations at 1,000 per loop keeps a whole upgrade (two loops) far below that limit.
 */
export const MAX_POLLS_PER_LOOP = 1000;

/** The longest each wait may be set to (minutes); the state machines' own timeouts outlast their sum. */
export const MAX_TIMEOUT_MINUTES = {
  fetchMinutes: INPUT_LIMITS['options.timeouts.fetchMinutes'].max,
  rebootMinutes: INPUT_LIMITS['options.timeouts.rebootMinutes'].max,
  generateMinutes: INPUT_LIMITS['options.timeouts.generateMinutes'].max,
} as const;

/** What a bad value was, in words that never repeat it. */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'boolean') return 'true or false';
  return `a ${typeof value}`;
}

/** An integer within its limit; one message per mistake, fatal so no rule built on the field runs after it. */
export function integer(name: LimitName) {
  const { min, max } = INPUT_LIMITS[name];
  const rule = `must be an integer from ${min} to ${max}`;
  return z.number({ error: (issue) => `${rule} (got ${kindOf(issue.input)})` }).check(
    z.superRefine((n, ctx) => {
      const got = !Number.isInteger(n)
        ? 'a number that is not an integer'
        : n < min
          ? `a number below ${min}`
          : n > max
            ? `a number above ${max}`
            : undefined;
      if (got) ctx.addIssue({ code: 'custom', message: `${rule} (got ${got})`, input: n, continue: false });
    }),
  );
}

/** A text within its limit (trimmed first with `trim`), and, when given, a pattern stated as `rule`. */
export function text(name: LimitName, options: { trim?: boolean; pattern?: RegExp; rule?: string } = {}) {
  const { min, max } = INPUT_LIMITS[name];
  const length = min === 0 ? `at most ${max} characters` : `${min} to ${max} characters`;
  const rule = `must be ${options.rule ? `${options.rule}, ` : ''}${length}`;
  return z.string({ error: (issue) => `${rule} (got ${kindOf(issue.input)})` }).check(
    ...(options.trim ? [z.trim()] : []),
    z.superRefine((s, ctx) => {
      const got =
        s.length < min
          ? s.length === 0
            ? 'an empty text'
            : 'a shorter text'
          : s.length > max
            ? 'a longer text'
            : options.pattern && !options.pattern.test(s)
              ? 'a text that does not match'
              : undefined;
      if (got) ctx.addIssue({ code: 'custom', message: `${rule} (got ${got})`, input: s, continue: false });
    }),
  );
}

const urlOrUndefined = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

const httpUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const applianceName = () =>
  text('appliance.name', {
    pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    rule: 'letters, digits, ".", "_" or "-", starting with a letter or digit',
  });

/** Whether `name` is a valid appliance name (the registry's secret names are checked by the same rule). */
export const isApplianceName = (name: string): boolean => applianceName().safeParse(name).success;

/** An appliance's base URL: http(s), no `/api`, no credentials, no trailing slash. */
export const endpointSchema = map(
  httpUrl().check(
    // Refinements run even after the URL check failed: parse defensively.
    z.refine((u) => !/\/api\/?$/.test(urlOrUndefined(u)?.pathname ?? ''), 'must be the base URL, without /api'),
    z.refine((u) => !urlOrUndefined(u)?.username && !urlOrUndefined(u)?.password, 'must not contain credentials'),
  ),
  (u) => u.replace(/\/+$/, ''),
);

const secretId = () => text('appliance.credentialsSecretId');

/**
 * The appliance as workflow steps pass it on: resolved from its credentials secret by the first
 * state (`validate-input`), so `endpoint` is the one the secret names.
 */
export const applianceSchema = z.strictObject({
  name: applianceName(),
  endpoint: endpointSchema,
  credentialsSecretId: secretId(),
});

/**
 * The appliance as users name it (README, "Appliances and their credentials"): its registered name, or
 * `{name, endpoint?, credentialsSecretId?}`. Without `credentialsSecretId` the secret is
 * `<credentials prefix><name>`; an `endpoint` given must be the one that secret names.
 */
export const applianceReferenceSchema = z.pipe(
  // A bare name is read as `{name}`, so a mistake in either form is named by its field.
  z.transform((value: unknown) => (typeof value === 'string' ? { name: value } : value)),
  z.strictObject(
    {
      name: applianceName(),
      endpoint: z.optional(endpointSchema),
      credentialsSecretId: z.optional(secretId()),
    },
    { error: 'must be a registered appliance name or {"name", "endpoint", "credentialsSecretId"}' },
  ),
);
export interface ApplianceReference {
  name: string;
  endpoint?: string;
  credentialsSecretId?: string;
}
export type ApplianceRef = z.output<typeof applianceSchema>;

export interface Polling {
  minSeconds: number;
  maxSeconds: number;
}

/** `options.polling` and `options.timeouts` as given: each field may be left out. */
interface PollingAsGiven<T extends Timeout> {
  polling?: Partial<Polling>;
  timeouts?: Partial<Record<T, number>>;
}

const pollingSchema = z.optional(
  z.strictObject({
    minSeconds: z.optional(integer('options.polling.minSeconds')),
    maxSeconds: z.optional(integer('options.polling.maxSeconds')),
  }),
);

const timeoutSchema = (field: Timeout) => z.optional(integer(`options.timeouts.${field}`));

/**
 * The polling and timeouts a run uses, and what is wrong with the ones given. A loop polls at most
 * `minutes × 60 / minSeconds` times, capped at MAX_POLLS_PER_LOOP. The cap holds for what the
 * input sets; a default never breaks it, nor `maxSeconds >= minSeconds`: a default yields to
 * the values set (`minSeconds` 5 shortens the default `fetchMinutes`; `fetchMinutes` 1440 raises
 * the default `minSeconds`; `minSeconds` 600 raises the default `maxSeconds`).
 */
export function settlePolling<T extends Timeout>(
  given: PollingAsGiven<T>,
  fields: readonly T[],
): { polling: Polling; timeouts: Record<T, number>; problems: Array<{ path: string[]; message: string }> } {
  const minSecondsFor = (minutes: number) => Math.ceil((minutes * 60) / MAX_POLLS_PER_LOOP);
  const maxMinutesAt = (seconds: number) => Math.floor((seconds * MAX_POLLS_PER_LOOP) / 60);
  const set = fields.flatMap((field) => {
    const minutes = given.timeouts?.[field];
    return minutes === undefined ? [] : [{ field, minutes }];
  });
  const needed = Math.max(0, ...set.map((t) => minSecondsFor(t.minutes)));
  const minDefault = INPUT_LIMITS['options.polling.minSeconds'].default;
  const maxDefault = INPUT_LIMITS['options.polling.maxSeconds'].default;
  const minSeconds =
    given.polling?.minSeconds ?? Math.min(Math.max(minDefault, needed), given.polling?.maxSeconds ?? Infinity);
  const maxSeconds = given.polling?.maxSeconds ?? Math.max(maxDefault, minSeconds);
  const timeouts = Object.fromEntries(
    fields.map((field) => [
      field,
      given.timeouts?.[field] ?? Math.min(INPUT_LIMITS[`options.timeouts.${field}`].default, maxMinutesAt(minSeconds)),
    ]),
  ) as Record<T, number>;
  const problems: Array<{ path: string[]; message: string }> = [];
  if (maxSeconds < minSeconds) {
    problems.push({
      path: ['polling', 'maxSeconds'],
      message: 'must be at least options.polling.minSeconds (got a smaller number)',
    });
    return { polling: { minSeconds, maxSeconds }, timeouts, problems };
  }
  // Without a minSeconds of its own, the run's is the default held down by the maxSeconds set.
  const by = given.polling?.minSeconds === undefined ? 'maxSeconds' : 'minSeconds';
  for (const { field, minutes } of set) {
    if (minutes <= maxMinutesAt(minSeconds)) continue;
    const least = minSecondsFor(minutes);
    const raise = by === 'minSeconds' && maxSeconds < least ? 'minSeconds and maxSeconds' : by;
    problems.push({
      path: ['timeouts', field],
      message:
        `must be at most ${maxMinutesAt(minSeconds)} with options.polling.${by} ${given.polling?.[by]} ` +
        `(at most ${MAX_POLLS_PER_LOOP} polls per loop): lower it, or raise options.polling.${raise} to at least ${least}`,
    });
  }
  return { polling: { minSeconds, maxSeconds }, timeouts, problems };
}

/** `options` with its polling settled (see `settlePolling`); a problem is reported on its field. */
function withPolling<Shape extends z.core.$ZodLooseShape, T extends Timeout>(shape: Shape, fields: readonly T[]) {
  const timeouts = Object.fromEntries(fields.map((field) => [field, timeoutSchema(field)])) as Record<
    T,
    ReturnType<typeof timeoutSchema>
  >;
  const options = z.pipe(
    z.strictObject({ ...shape, polling: pollingSchema, timeouts: z.optional(z.strictObject(timeouts)) }),
    z.transform((given, ctx) => {
      const settled = settlePolling(given as PollingAsGiven<T>, fields);
      for (const { path, message } of settled.problems) {
        ctx.issues.push({ code: 'custom', path, message, input: given });
      }
      return { ...given, polling: settled.polling, timeouts: settled.timeouts };
    }),
  );
  // Every field is optional: an input without options takes every default.
  return z.prefault(options, {} as z.input<typeof options>);
}

export const firmwareSchema = z.strictObject({
  url: httpUrl(),
  sha256: map(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')), (s) =>
    s.toLowerCase(),
  ),
  // A string only: as a JSON number, 8.10 would arrive as 8.1.
  expectedVersion: map(
    z.optional(text('firmware.expectedVersion', { trim: true, rule: 'a string such as "8.0.1"' })),
    (v) => v ?? null,
  ),
});

/** An upgrade's options, one appliance's or every child's of a fleet upgrade. */
export const upgradeOptionsSchema = withPolling(
  {
    dryRun: z._default(z.boolean(), false),
    upgradeMessage: z.optional(text('options.upgradeMessage', { trim: true })),
    freeOldestSlot: z._default(z.boolean(), false),
    preflight: z._default(
      z.enum(['enforce', 'warn', 'off'], { error: 'must be "enforce", "warn" or "off"' }),
      'enforce',
    ),
    // Set by a fleet upgrade, which orders each cluster's nodes itself (README, "Fleet upgrade").
    allowClusterMember: z._default(z.boolean(), false),
  },
  ['fetchMinutes', 'rebootMinutes'],
);

export const firmwareUpgradeInputSchema = map(
  z.strictObject({ appliance: applianceReferenceSchema, firmware: firmwareSchema, options: upgradeOptionsSchema }),
  (input) => ({
    ...input,
    options: {
      ...input.options,
      upgradeMessage:
        input.options.upgradeMessage ??
        `Upgrade to ${input.firmware.expectedVersion ?? 'new firmware'} by sps-workflows`,
    },
  }),
);
export type FirmwareUpgradeInput = z.output<typeof firmwareUpgradeInputSchema>;

export const supportBundleInputSchema = map(
  z.strictObject({
    appliance: applianceReferenceSchema,
    archive: z.prefault(
      z.strictObject({
        bucket: z.optional(
          text('archive.bucket', {
            pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
            rule: 'an S3 bucket name (lowercase letters, digits, "." and "-", starting and ending with a letter or digit)',
          }),
        ),
        prefix: z._default(
          text('archive.prefix', {
            pattern: /^(|[^/].*\/)$/,
            rule: 'empty or end with "/" (and not start with "/")',
          }),
          INPUT_LIMITS['archive.prefix'].default,
        ),
      }),
      {},
    ),
    options: withPolling({ deleteAfterArchive: z._default(z.boolean(), true) }, ['generateMinutes']),
  }),
  // The state machine reads `archive.bucket` by path: null means the deployment's default bucket.
  (input) => ({ ...input, archive: { ...input.archive, bucket: input.archive.bucket ?? null } }),
);
export type SupportBundleInput = z.output<typeof supportBundleInputSchema>;

/** The preflight's thresholds (README, "Preflight"); the upgrade's gate uses the defaults. */
const preflightOptionsSchema = z.prefault(
  z.strictObject({
    minFreeDiskPercent: z._default(
      integer('options.minFreeDiskPercent'),
      INPUT_LIMITS['options.minFreeDiskPercent'].default,
    ),
    maxActiveSessions: z._default(z.nullable(integer('options.maxActiveSessions')), null),
    requireBackupPolicy: z._default(z.boolean(), true),
    allowClusterMember: z._default(z.boolean(), false),
    freeOldestSlot: z._default(z.boolean(), false),
  }),
  {},
);
export type PreflightInputOptions = z.output<typeof preflightOptionsSchema>;
/** The preflight options with every default: what the upgrade's gate checks with. */
export const PREFLIGHT_DEFAULTS: PreflightInputOptions = preflightOptionsSchema.parse(undefined);

export const preflightInputSchema = map(
  z.strictObject({
    appliance: applianceReferenceSchema,
    // A string only, as `expectedVersion`.
    targetVersion: z.optional(text('targetVersion', { trim: true, rule: 'a string such as "8.0.1"' })),
    options: preflightOptionsSchema,
  }),
  (input) => ({ ...input, targetVersion: input.targetVersion ?? null }),
);
export type PreflightInput = z.output<typeof preflightInputSchema>;

/** The workflows a fleet run starts, one child execution per appliance. */
export const FLEET_WORKFLOWS = ['support-bundle', 'preflight', 'firmware-upgrade'] as const;
export type FleetWorkflow = (typeof FLEET_WORKFLOWS)[number];

/**
 * Children at a time when the input does not say: an archive reads the appliance only; an upgrade
 * reboots it, so one at a time (a fleet upgrade rolls out with canaries, waves and cluster order).
 */
export const FLEET_DEFAULT_CONCURRENCY: Record<FleetWorkflow, number> = {
  'support-bundle': 10,
  preflight: 10,
  'firmware-upgrade': 1,
};

/**
 * A fleet run (README, "Fleet runs"): `workflow` for each of `appliances` (default: every
 * registered appliance), each child given `input` plus its `appliance`.
 */
export const fleetRunInputSchema = z.strictObject({
  workflow: z.enum(FLEET_WORKFLOWS, { error: `must be one of ${FLEET_WORKFLOWS.join(', ')}` }),
  appliances: z.optional(
    z.array(applianceReferenceSchema).check(z.minLength(1, 'must name at least one appliance (or be left out: all)')),
  ),
  input: z._default(z.record(z.string(), z.unknown(), { error: 'must be an object' }), {}),
  maxConcurrency: z.optional(integer('maxConcurrency')),
});
export type FleetRunInput = z.output<typeof fleetRunInputSchema>;

/** Bad input: the message lists every bad field as `path: problem`. */
export class InputInvalidError extends NamedError {
  constructor(readonly problems: string[]) {
    super('Input.Invalid', `Invalid input: ${problems.join('; ')}`);
  }
}

/**
 * EventBridge delivers the input as the event's `detail`. A rule's input transformer turns a
 * missing `options` into null: that means the defaults.
 */
export function unwrapEvent(raw: unknown): unknown {
  const input =
    raw && typeof raw === 'object' && 'detail' in raw && 'detail-type' in raw
      ? (raw as { detail: unknown }).detail
      : raw;
  if (input && typeof input === 'object' && 'options' in input && (input as { options: unknown }).options === null) {
    const { options: _none, ...rest } = input as Record<string, unknown>;
    return rest;
  }
  return input;
}

/** Parses or throws `Input.Invalid`. Never echoes values: a bad field may hold a secret pasted by mistake. */
export function parseInput<S extends z.ZodMiniType>(schema: S, raw: unknown): z.output<S> {
  // reportInput tells a missing field from a wrong type; values never reach the message.
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new InputInvalidError(
    result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(input)';
      if (issue.code === 'unrecognized_keys') {
        return `${path === '(input)' ? '' : `${path}: `}unknown field(s) ${issue.keys.join(', ')}`;
      }
      if (issue.code === 'invalid_type') {
        if (issue.input === undefined) return `${path}: required`;
        // zod/mini carries no messages of its own: say what was expected unless the schema did.
        if (issue.message === 'Invalid input')
          return `${path}: expected ${issue.expected} (got ${kindOf(issue.input)})`;
      }
      return `${path}: ${issue.message}`;
    }),
  );
}
