import * as z from 'zod/mini';
import { resolveAppliance } from '../shared/credentials';
import {
  firmwareUpgradeInputSchema,
  parseInput,
  preflightInputSchema,
  supportBundleInputSchema,
  unwrapEvent,
} from '../shared/input';
import { operation } from '../shared/operation';

const SCHEMAS = {
  'firmware-upgrade': firmwareUpgradeInputSchema,
  'support-bundle': supportBundleInputSchema,
  preflight: preflightInputSchema,
};

/**
 * First state of every workflow: accepts the input or an EventBridge event carrying it in
 * `detail`, fills in defaults and fails with `Input.Invalid` (every bad field listed) before
 * anything reaches the appliance. The appliance reference is resolved from its credentials secret
 * (the registry entry): later steps get `{name, endpoint, credentialsSecretId}` with the secret's
 * endpoint, and an input naming another endpoint fails here.
 */
export const validateInput = operation(
  'validate-input',
  z.object({ workflow: z.enum(['firmware-upgrade', 'support-bundle', 'preflight']), input: z.unknown() }),
  async ({ workflow, input }, ctx) => {
    const parsed = parseInput(SCHEMAS[workflow], unwrapEvent(input));
    const { appliance } = await resolveAppliance(ctx.deps.secrets, parsed.appliance, ctx.deps.credentialsSecretPrefix);
    return { ...parsed, appliance } as Record<string, unknown>;
  },
);
