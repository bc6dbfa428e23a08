import * as z from 'zod/mini';
import {
  advanceRollout,
  childCause,
  applianceValueSchema,
  fleetUpgradeMarkdown,
  nameOf,
  reportFleetUpgrade,
  type UpgradeRow,
} from '../shared/fleet-upgrade';
import { operation } from '../shared/operation';
import { fleetReportKey } from '../shared/fleet';
import { storeReport } from '../shared/reports';

/*
 * A fleet upgrade's steps that never call an appliance (README, "Fleet upgrade"): between waves
 * (the error budget, the approval, the maintenance window) and the report at the end.
 */

const windowSchema = z.nullable(
  z.object({ days: z.array(z.string()), start: z.string(), end: z.string(), timeZone: z.string() }),
);
const waveSchema = z.object({
  kind: z.enum(['canary', 'standalone', 'cluster']),
  cluster: z.optional(z.string()),
  /** Each as its child gets it. */
  appliances: z.array(applianceValueSchema),
});
const rowSchema = z.object({
  appliance: applianceValueSchema,
  status: z.optional(z.string()),
  outcome: z.optional(z.string()),
  version: z.optional(z.nullable(z.string())),
  error: z.optional(z.string()),
  execution: z.optional(z.string()),
});
const progressSchema = z.object({
  next: z.number(),
  current: z.nullable(z.number()),
  results: z.array(rowSchema),
  failures: z.number(),
  approved: z.boolean(),
  stop: z.nullable(z.object({ error: z.string(), cause: z.string() })),
});

/** A row as the workflow recorded it: a child's appliance may be a reference. */
const normalized = (row: z.output<typeof rowSchema>): UpgradeRow => ({ ...row, appliance: nameOf(row.appliance) });

/** Between waves: takes in the wave that ended and says what comes next (README, "Fleet upgrade"). */
export const advanceRolloutOperation = operation(
  'advance-rollout',
  z.object({
    executionId: z.optional(z.string()),
    plan: z.object({
      waves: z.array(waveSchema),
      maxFailures: z.number(),
      approval: z.string(),
      window: windowSchema,
    }),
    progress: progressSchema,
    finished: z.unknown(),
    approval: z.unknown(),
  }),
  async ({ plan, progress, finished, approval }, ctx) => {
    const rows = Array.isArray(finished) ? finished.map((r) => normalized(rowSchema.parse(r))) : finished;
    const step = advanceRollout(
      plan as Parameters<typeof advanceRollout>[0],
      { ...progress, results: progress.results.map(normalized) },
      rows as Parameters<typeof advanceRollout>[2],
      approval,
      new Date(ctx.now()),
    );
    if (step.mixed) {
      ctx.log.warn('cluster stopped on mixed versions', step.mixed);
      ctx.deps.metrics?.add('ClustersOnMixedVersions', 'Count', 1);
    }
    if (step.stop) ctx.log.warn('rollout stopped', step.stop);
    ctx.log.info('rollout step', {
      action: step.action,
      wave: step.wave && { index: step.wave.index, kind: step.wave.kind, cluster: step.wave.cluster },
      failures: step.failures,
      waitingUntil: step.waitingUntil,
    });
    return step;
  },
);

/** Why the run stopped before its waves ended: the error, and what was caught (or said). */
const stopSchema = z.nullable(
  z.object({
    error: z.string(),
    cause: z.optional(z.string()),
    failure: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.nullable(z.string())) })),
  }),
);

/** Why the run stopped before its waves ended, in words (a failed stage's cause is the stage run's own). */
function stopCause(stop: z.output<typeof stopSchema>): { error: string; cause: string } | null {
  if (!stop) return null;
  const cause = stop.cause ?? (stop.failure?.Cause ? childCause(stop.failure.Cause) : (stop.failure?.Error ?? ''));
  switch (stop.error) {
    case 'Fleet.StageFailed':
      return {
        error: stop.error,
        cause: `Staging failed, nothing was rebooted; fix these appliances or leave them out of appliances, then start again: ${cause}`,
      };
    case 'Fleet.Rejected':
      return { error: stop.error, cause: `The rollout was rejected${cause ? `: ${cause}` : ''}` };
    default:
      return { error: stop.error, cause };
  }
}

/**
 * Last state of a fleet upgrade: the report (one row per appliance), stored in the archive bucket
 * as JSON and Markdown, and the error the run ends with, if any.
 */
export const reportFleetUpgradeOperation = operation(
  'report-fleet-upgrade',
  z.object({
    executionId: z.string(),
    executionName: z.string(),
    plan: z.object({
      firmware: z.object({ url: z.string(), sha256: z.string(), expectedVersion: z.string() }),
      dryRun: z.boolean(),
      stageRun: z.object({ appliances: z.array(applianceValueSchema) }),
      clusters: z.array(
        z.object({
          name: z.string(),
          order: z.array(z.string()),
          mixedVersions: z.boolean(),
          outOfSync: z.array(z.string()),
        }),
      ),
      appliances: z.array(
        z.object({
          name: z.string(),
          cluster: z.nullable(z.string()),
          roles: z.array(z.string()),
          previousVersion: z.nullable(z.string()),
        }),
      ),
    }),
    progress: progressSchema,
    /** The staging run's summary: a dry run's appliances all passed it (else the run stopped in Fleet.StageFailed). */
    stage: z.nullable(z.object({ execution: z.string() })),
    stop: stopSchema,
  }),
  async ({ executionId, executionName, plan, progress, stage, stop }, ctx) => {
    const results: UpgradeRow[] =
      plan.dryRun && stage
        ? plan.stageRun.appliances.map((a) => ({ appliance: nameOf(a), outcome: 'dry-run-passed' }))
        : progress.results.map(normalized);
    const end = reportFleetUpgrade(
      plan.firmware,
      plan.appliances,
      plan.clusters,
      results,
      stopCause(stop) ?? progress.stop,
    );
    ctx.log.info('fleet upgrade finished', { ...end.report.summary, error: end.error });
    const { upgraded, failed } = end.report.summary;
    ctx.deps.metrics?.add('FleetAppliancesUpgraded', 'Count', upgraded);
    ctx.deps.metrics?.add('FleetAppliancesFailed', 'Count', failed, { Workflow: 'fleet-upgrade' });
    const at = new Date(ctx.now());
    const json = { ...end.report, execution: executionId, at: at.toISOString(), error: end.error, cause: end.cause };
    const stored = await storeReport(ctx.deps.archive, fleetReportKey('fleet-upgrade', at, executionName), {
      json,
      markdown: fleetUpgradeMarkdown(end.report, at, executionId, end),
    });
    ctx.log.info('fleet report stored', stored);
    return { report: { ...end.report, stored }, error: end.error, cause: end.cause };
  },
);
