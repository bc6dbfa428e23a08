import { join } from 'node:path';
import {
  OPERATION_NAMES,
  OPERATION_SPECS,
  type OperationName,
  type OperationSpec,
} from '../lambdas/operations/catalog';

/** The functions' runtime is Node.js 24: bundles are built for it (no syntax lowered for older ones). */
export const BUNDLE_TARGET = 'node24';

/** AWS SDK clients every Node.js Lambda runtime provides; everything else is bundled. */
export const RUNTIME_SDK_CLIENTS = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sfn',
] as const;

/** What one Lambda function needs: its operation's name, sizing and the resources it may touch. */
export type FunctionSpec = OperationSpec & { name: OperationName };

/** One function per operation of the catalogue (README, "Architecture"). */
export const FUNCTIONS: readonly FunctionSpec[] = OPERATION_NAMES.map((name) => ({ name, ...OPERATION_SPECS[name] }));

export const ROOT = join(__dirname, '..');
export const handlerEntry = (name: string) => join(ROOT, 'lambdas', 'handlers', `${name}.ts`);
export { pascalCase, SESSION_SECRET_PREFIX, substitutionKey } from '../lambdas/operations/catalog';
