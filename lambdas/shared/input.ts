import * as z from 'zod/mini';
import { NamedError } from './errors';
import { map } from './zod';

/*
 * The public inputs (README, "Firmware upgrade" and "Support-bundle archival"), validated before the first request to an
 * appliance. Objects are strict: a misspelt option (`dryrun`) is an error, not a silent default.
 */

/**
 * Each poll loop costs about 10 history events per iteration; a Standard execution holds 25,000.
 * Capping iterations at 1,000 per loop keeps a whole upgrade (two loops) far below that limit.
 */
export const MAX_POLLS_PER_LOOP = 1000;

/** The longest each wait may be set to (minutes); the state machines' own timeouts outlast their sum. */
export const MAX_TIMEOUT_MINUTES = { fetchMinutes: 1440, rebootMinutes: 240, generateMinutes: 1440 } as const;

const urlOrUndefined = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

const httpUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const intIn = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));

const applianceName = () =>
  z
    .string()
    .check(
      z.regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
        'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
      ),
    );

/** An appliance's base URL: http(s), no `/api`, no credentials, no trailing slash. */
export const endpointSchema = map(
  httpUrl().check(
    // Refinements run even after the URL check failed: parse defensively.
    z.refine((u) => !/\/api\/?$/.test(urlOrUndefined(u)?.pathname ?? ''), 'must be the base URL, without /api'),
    z.refine((u) => !urlOrUndefined(u)?.username && !urlOrUndefined(u)?.password, 'must not contain credentials'),
  ),
  (u) => u.replace(/\/+$/, ''),
);

const secretId = () => z.string().check(z.minLength(1), z.maxLength(2048));

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

const DEFAULT_POLLING = { minSeconds: 10, maxSeconds: 300 };
const pollingSchema = z
  .strictObject({
    minSeconds: z._default(intIn(5, 3600), DEFAULT_POLLING.minSeconds),
    maxSeconds: z._default(intIn(5, 3600), DEFAULT_POLLING.maxSeconds),
  })
  .check(
    z.refine((p) => p.maxSeconds >= p.minSeconds, {
      message: 'maxSeconds must be >= minSeconds',
      path: ['maxSeconds'],
    }),
  );
export type Polling = z.output<typeof pollingSchema>;

const pollsWithin = (minutes: number, polling: Polling) => Math.ceil((minutes * 60) / polling.minSeconds);

const DEFAULT_FIRMWARE_OPTIONS = {
  dryRun: false,
  freeOldestSlot: false,
  polling: DEFAULT_POLLING,
  timeouts: { fetchMinutes: 120, rebootMinutes: 45 },
};

export const firmwareUpgradeInputSchema = map(
  z
    .strictObject({
      appliance: applianceReferenceSchema,
      firmware: z.strictObject({
        url: httpUrl(),
        sha256: map(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')), (s) =>
          s.toLowerCase(),
        ),
        // A string only: as a JSON number, 8.10 would arrive as 8.1.
        expectedVersion: map(
          z.optional(
            z.string({ error: 'must be a string such as "8.0.1"' }).check(z.trim(), z.minLength(1), z.maxLength(64)),
          ),
          (v) => v ?? null,
        ),
      }),
      options: z._default(
        z.strictObject({
          dryRun: z._default(z.boolean(), false),
          upgradeMessage: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(1000))),
          freeOldestSlot: z._default(z.boolean(), false),
          polling: z._default(pollingSchema, DEFAULT_POLLING),
          timeouts: z._default(
            z.strictObject({
              fetchMinutes: z._default(intIn(1, MAX_TIMEOUT_MINUTES.fetchMinutes), 120),
              rebootMinutes: z._default(intIn(1, MAX_TIMEOUT_MINUTES.rebootMinutes), 45),
            }),
            DEFAULT_FIRMWARE_OPTIONS.timeouts,
          ),
        }),
        DEFAULT_FIRMWARE_OPTIONS,
      ),
    })
    .check(
      z.superRefine((input, ctx) => {
        const { polling, timeouts } = input.options;
        for (const [field, minutes] of [
          ['fetchMinutes', timeouts.fetchMinutes],
          ['rebootMinutes', timeouts.rebootMinutes],
        ] as const) {
          if (pollsWithin(minutes, polling) > MAX_POLLS_PER_LOOP) {
            ctx.addIssue({
              code: 'custom',
              input,
              path: ['options', 'timeouts', field],
              message: `allows more than ${MAX_POLLS_PER_LOOP} polls at polling.minSeconds ${polling.minSeconds}: raise minSeconds or lower the timeout`,
            });
          }
        }
      }),
    ),
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

const DEFAULT_BUNDLE_OPTIONS = {
  deleteAfterArchive: true,
  polling: DEFAULT_POLLING,
  timeouts: { generateMinutes: 30 },
};

export const supportBundleInputSchema = map(
  z
    .strictObject({
      appliance: applianceReferenceSchema,
      archive: z._default(
        z.strictObject({
          bucket: z.optional(
            z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')),
          ),
          prefix: z._default(
            z
              .string()
              .check(
                z.maxLength(512),
                z.regex(/^(|[^/].*\/)$/, 'must be empty or end with "/" (and not start with "/")'),
              ),
            'support-bundles/',
          ),
        }),
        { prefix: 'support-bundles/' },
      ),
      options: z._default(
        z.strictObject({
          deleteAfterArchive: z._default(z.boolean(), true),
          polling: z._default(pollingSchema, DEFAULT_POLLING),
          timeouts: z._default(
            z.strictObject({ generateMinutes: z._default(intIn(1, MAX_TIMEOUT_MINUTES.generateMinutes), 30) }),
            {
              generateMinutes: 30,
            },
          ),
        }),
        DEFAULT_BUNDLE_OPTIONS,
      ),
    })
    .check(
      z.superRefine((input, ctx) => {
        const { polling, timeouts } = input.options;
        if (pollsWithin(timeouts.generateMinutes, polling) > MAX_POLLS_PER_LOOP) {
          ctx.addIssue({
            code: 'custom',
            input,
            path: ['options', 'timeouts', 'generateMinutes'],
            message: `allows more than ${MAX_POLLS_PER_LOOP} polls at polling.minSeconds ${polling.minSeconds}`,
          });
        }
      }),
    ),
  // The state machine reads `archive.bucket` by path: null means the deployment's default bucket.
  (input) => ({ ...input, archive: { ...input.archive, bucket: input.archive.bucket ?? null } }),
);
export type SupportBundleInput = z.output<typeof supportBundleInputSchema>;

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
        if (issue.message === 'Invalid input') return `${path}: expected ${issue.expected}`;
      }
      return `${path}: ${issue.message}`;
    }),
  );
}
