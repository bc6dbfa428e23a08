import * as z from 'zod/mini';
import { applianceReferenceSchema, firmwareSchema, INPUT_LIMITS, integer, text, upgradeOptionsSchema } from './input';
import { WEEKDAYS } from './rollout';

/*
 * A fleet upgrade's input (README, "Fleet upgrade"), apart from the other inputs: only its plan
 * needs it, and every other function's bundle stays without it. Limits are in INPUT_LIMITS.
 */

const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** A maintenance window: reboots start only inside it (one whose end is not after its start crosses midnight). */
const windowSchema = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(', ')}` }))
    .check(z.minLength(1, 'must name at least one day')),
  start: z.string().check(z.regex(HH_MM, 'must be a time of day as "HH:MM" (24-hour)')),
  end: z.string().check(z.regex(HH_MM, 'must be a time of day as "HH:MM" (24-hour)')),
  timeZone: z.string().check(z.refine(isTimeZone, 'must be an IANA time zone such as "Europe/Budapest"')),
});

export const APPROVALS = ['none', 'after-canary', 'before-upgrade'] as const;

/** How a fleet upgrade rolls out (README, "Fleet upgrade"). */
const rolloutSchema = z.prefault(
  z.strictObject({
    canary: z._default(integer('rollout.canary'), INPUT_LIMITS['rollout.canary'].default),
    maxConcurrency: z._default(integer('rollout.maxConcurrency'), INPUT_LIMITS['rollout.maxConcurrency'].default),
    maxFailures: z._default(integer('rollout.maxFailures'), INPUT_LIMITS['rollout.maxFailures'].default),
    approval: z._default(z.enum(APPROVALS, { error: `must be one of ${APPROVALS.join(', ')}` }), 'none'),
    approvalTimeoutMinutes: z._default(
      integer('rollout.approvalTimeoutMinutes'),
      INPUT_LIMITS['rollout.approvalTimeoutMinutes'].default,
    ),
    stageFirst: z._default(z.boolean(), true),
    window: z._default(z.nullable(windowSchema), null),
  }),
  {},
);

/**
 * A fleet upgrade (README, "Fleet upgrade"): `firmware` (with `expectedVersion`) for `appliances`
 * (default: every registered one), narrowed to one `cluster`, rolled out as `rollout` says; each
 * appliance's upgrade gets `options`. Names and endpoints may each appear once.
 */
export const fleetUpgradeInputSchema = z.strictObject({
  // Required here: a fleet upgrade skips the appliances already on it and proves the others reached it.
  firmware: z.extend(firmwareSchema, {
    expectedVersion: text('firmware.expectedVersion', { trim: true, rule: 'a string such as "8.0.1"' }),
  }),
  appliances: z.optional(
    z.array(applianceReferenceSchema).check(
      z.minLength(1, 'must name at least one appliance (or be left out: all)'),
      z.superRefine((refs, ctx) => {
        const seen = new Map<string, number>();
        refs.forEach((ref, i) => {
          for (const key of [`name ${ref.name}`, ...(ref.endpoint ? [`endpoint ${ref.endpoint}`] : [])]) {
            const first = seen.get(key);
            if (first === undefined) seen.set(key, i);
            else
              ctx.addIssue({
                code: 'custom',
                path: [i],
                input: ref,
                message: `same ${key.split(' ')[0]} as appliances.${first}`,
              });
          }
        });
      }),
    ),
  ),
  cluster: z.optional(text('appliance.name', { rule: 'a cluster name' })),
  rollout: rolloutSchema,
  options: upgradeOptionsSchema,
});
export type FleetUpgradeInput = z.output<typeof fleetUpgradeInputSchema>;
