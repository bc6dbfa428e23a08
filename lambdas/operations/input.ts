import * as z from 'zod/mini';
import { firmwareUpgradeInputSchema, parseInput, supportBundleInputSchema, unwrapEvent } from '../shared/input';
import { operation } from '../shared/operation';

const SCHEMAS = { 'firmware-upgrade': firmwareUpgradeInputSchema, 'support-bundle': supportBundleInputSchema };

/**
 * First state of every workflow: accepts the input or an EventBridge event carrying it in
 * `detail`, fills in defaults and fails with `Input.Invalid` (every bad field listed) before
 * anything reaches the appliance.
 */
export const validateInput = operation(
  'validate-input',
  z.object({ workflow: z.enum(['firmware-upgrade', 'support-bundle']), input: z.unknown() }),
  async ({ workflow, input }) => parseInput(SCHEMAS[workflow], unwrapEvent(input)) as Record<string, unknown>,
);
