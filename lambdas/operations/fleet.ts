import * as z from 'zod/mini';
import { planFleetRun, registeredNames, reportFleetRun, childRunSchema } from '../shared/fleet';
import { FLEET_WORKFLOWS } from '../shared/input';
import { operation } from '../shared/operation';

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

/** Last state of a fleet run: one row per appliance, and whether any did not succeed. */
export const reportFleetRunOperation = operation(
  'report-fleet-run',
  z.object({
    workflow: z.enum(FLEET_WORKFLOWS),
    results: z.array(childRunSchema),
    unregistered: z.array(z.string()),
  }),
  async ({ workflow, results, unregistered }, ctx) => {
    const outcome = reportFleetRun(workflow, results, unregistered);
    ctx.log.info('fleet run finished', outcome.report.summary);
    return outcome;
  },
);
