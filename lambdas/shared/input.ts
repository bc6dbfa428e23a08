import { z } from 'zod';
import { NamedError } from './errors';

/*
 * The public inputs (DESIGN.md, "Public contracts"), validated before the first request to an
 * appliance. Objects are strict: a misspelt option (`dryrun`) is an error, not a silent default.
 */

/**
 * Each poll loop costs about 10 history events per iteration; a Standard execution holds 25,000.
 * Capping iterations at 1,000 per loop keeps a whole upgrade (two loops) far below that limit.
 */
export const MAX_POLLS_PER_LOOP = 1000;

const urlOrUndefined = (value: string): URL | undefined => {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
};

export const applianceSchema = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
      'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit',
    ),
  endpoint: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    // Refinements run even after the URL check failed: parse defensively.
    .refine((u) => !/\/api\/?$/.test(urlOrUndefined(u)?.pathname ?? ''), 'must be the base URL, without /api')
    .refine((u) => !urlOrUndefined(u)?.username && !urlOrUndefined(u)?.password, 'must not contain credentials')
    .transform((u) => u.replace(/\/+$/, '')),
  credentialsSecretId: z.string().min(1).max(2048),
});
export type ApplianceRef = z.output<typeof applianceSchema>;

const pollingSchema = z
  .strictObject({
    minSeconds: z.number().int().min(5).max(3600).default(10),
    maxSeconds: z.number().int().min(5).max(3600).default(300),
  })
  .refine((p) => p.maxSeconds >= p.minSeconds, { message: 'maxSeconds must be >= minSeconds', path: ['maxSeconds'] });
export type Polling = z.output<typeof pollingSchema>;

const pollsWithin = (minutes: number, polling: Polling) => Math.ceil((minutes * 60) / polling.minSeconds);

export const firmwareUpgradeInputSchema = z
  .strictObject({
    appliance: applianceSchema,
    firmware: z.strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
      sha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal characters')
        .transform((s) => s.toLowerCase()),
      expectedVersion: z
        .union([z.string().trim().min(1).max(64), z.number().transform(String)])
        .optional()
        .transform((v) => v ?? null),
    }),
    options: z
      .strictObject({
        dryRun: z.boolean().default(false),
        upgradeMessage: z.string().trim().min(1).max(1000).optional(),
        freeOldestSlot: z.boolean().default(false),
        polling: pollingSchema.default({ minSeconds: 10, maxSeconds: 300 }),
        timeouts: z
          .strictObject({
            fetchMinutes: z.number().int().min(1).max(1440).default(120),
            rebootMinutes: z.number().int().min(1).max(240).default(45),
          })
          .default({ fetchMinutes: 120, rebootMinutes: 45 }),
      })
      .default({
        dryRun: false,
        freeOldestSlot: false,
        polling: { minSeconds: 10, maxSeconds: 300 },
        timeouts: { fetchMinutes: 120, rebootMinutes: 45 },
      }),
  })
  .superRefine((input, ctx) => {
    const { polling, timeouts } = input.options;
    for (const [field, minutes] of [
      ['fetchMinutes', timeouts.fetchMinutes],
      ['rebootMinutes', timeouts.rebootMinutes],
    ] as const) {
      if (pollsWithin(minutes, polling) > MAX_POLLS_PER_LOOP) {
        ctx.addIssue({
          code: 'custom',
          path: ['options', 'timeouts', field],
          message: `allows more than ${MAX_POLLS_PER_LOOP} polls at polling.minSeconds ${polling.minSeconds}: raise minSeconds or lower the timeout`,
        });
      }
    }
  })
  .transform((input) => ({
    ...input,
    options: {
      ...input.options,
      upgradeMessage:
        input.options.upgradeMessage ??
        `Upgrade to ${input.firmware.expectedVersion ?? 'new firmware'} by sps-workflows`,
    },
  }));
export type FirmwareUpgradeInput = z.output<typeof firmwareUpgradeInputSchema>;

export const supportBundleInputSchema = z
  .strictObject({
    appliance: applianceSchema,
    archive: z
      .strictObject({
        bucket: z
          .string()
          .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name')
          .optional(),
        prefix: z
          .string()
          .max(512)
          .regex(/^(|[^/].*\/)$/, 'must be empty or end with "/" (and not start with "/")')
          .default('support-bundles/'),
      })
      .default({ prefix: 'support-bundles/' }),
    options: z
      .strictObject({
        deleteAfterArchive: z.boolean().default(true),
        polling: pollingSchema.default({ minSeconds: 10, maxSeconds: 300 }),
        timeouts: z
          .strictObject({ generateMinutes: z.number().int().min(1).max(1440).default(30) })
          .default({ generateMinutes: 30 }),
      })
      .default({
        deleteAfterArchive: true,
        polling: { minSeconds: 10, maxSeconds: 300 },
        timeouts: { generateMinutes: 30 },
      }),
  })
  .superRefine((input, ctx) => {
    const { polling, timeouts } = input.options;
    if (pollsWithin(timeouts.generateMinutes, polling) > MAX_POLLS_PER_LOOP) {
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'timeouts', 'generateMinutes'],
        message: `allows more than ${MAX_POLLS_PER_LOOP} polls at polling.minSeconds ${polling.minSeconds}`,
      });
    }
  })
  // The state machine reads `archive.bucket` by path: null means the deployment's default bucket.
  .transform((input) => ({ ...input, archive: { ...input.archive, bucket: input.archive.bucket ?? null } }));
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
export function parseInput<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new InputInvalidError(
    result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(input)';
      if (issue.code === 'unrecognized_keys') {
        return `${path === '(input)' ? '' : `${path}: `}unknown field(s) ${issue.keys.join(', ')}`;
      }
      if (issue.code === 'invalid_type' && issue.input === undefined) return `${path}: required`;
      return `${path}: ${issue.message}`;
    }),
  );
}
