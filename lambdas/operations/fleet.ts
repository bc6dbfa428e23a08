import * as z from 'zod/mini';
import {
  childRunSchema,
  planFleetRun,
  preflightMarkdown,
  fleetReportKey,
  registeredNames,
  reportFleetRun,
  upgradesMarkdown,
} from '../shared/fleet';
import { FLEET_WORKFLOWS } from '../shared/input';
import { operation } from '../shared/operation';
import { storeReport } from '../shared/reports';

/**
 * First state of a fleet run: checks its input (or a `SPS Firmware Release` event) whole and
 * lists the appliances it covers. Reads the registry's secret names, never a secret's value.
 */
export const planFleetRunOperation = operation(
  'plan-fleet-run',
  z.object({ input: z.unknown() }),
  async ({ input }, ctx) => {
    const prefix = ctx.deps.credentialsSecretPrefix;
    const { names, skipped } = registeredNames(await ctx.deps.secrets.list(prefix), prefix);
    if (skipped.length > 0) {
      ctx.log.warn('secrets under the prefix that name no appliance were left out', { secretIds: skipped });
    }
    const plan = planFleetRun(input, names);
    ctx.log.info('fleet run planned', {
      workflow: plan.workflow,
      registered: names.length,
      appliances: plan.items.length,
      unregistered: plan.unregistered,
    });
    return plan;
  },
);

/**
 * Last state of a fleet run: one row per appliance, and whether any did not succeed. The report of
 * a fleet preflight or of fleet upgrades (a fleet upgrade's staging) is also stored in the archive
 * bucket, as JSON and as a Markdown table.
 */
export const reportFleetRunOperation = operation(
  'report-fleet-run',
  z.object({
    workflow: z.enum(FLEET_WORKFLOWS),
    executionId: z.string(),
    results: z.array(childRunSchema),
    unregistered: z.array(z.string()),
  }),
  async ({ workflow, executionId, results, unregistered }, ctx) => {
    const outcome = reportFleetRun(workflow, results, unregistered);
    ctx.log.info('fleet run finished', outcome.report.summary);
    const { succeeded, failed } = outcome.report.summary;
    ctx.deps.metrics?.add('FleetAppliancesSucceeded', 'Count', succeeded, { Workflow: workflow });
    ctx.deps.metrics?.add('FleetAppliancesFailed', 'Count', failed, { Workflow: workflow });
    if (workflow === 'support-bundle') return outcome;
    const at = new Date(ctx.now());
    const markdown = workflow === 'preflight' ? preflightMarkdown : upgradesMarkdown;
    const stored = await storeReport(ctx.deps.archive, fleetReportKey(workflow, at), {
      json: { ...outcome.report, execution: executionId, at: at.toISOString() },
      markdown: markdown(outcome.report, at, executionId),
    });
    ctx.log.info('fleet report stored', stored);
    return { ...outcome, report: { ...outcome.report, stored } };
  },
);
