import { join } from 'node:path';

/** AWS SDK clients every Node.js Lambda runtime provides; everything else is bundled. */
export const RUNTIME_SDK_CLIENTS = [
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/client-s3',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-sfn',
] as const;

/** What one Lambda function needs: sizing and the resources it may touch. */
export interface FunctionSpec {
  /** The operation name: `lambdas/handlers/<name>.ts`, and `${<PascalName>FunctionArn}` in the ASL. */
  name: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** Reads appliance credentials and reads/writes session secrets. */
  sps: boolean;
  /** Reads appliance credentials only (resolves an appliance named alone, checks its endpoint). */
  credentials?: boolean;
  /** Writes support bundles to the archive bucket. */
  archive?: boolean;
  /** Takes and gives up appliance locks (the lock table; the workflows' executions, to see a holder still runs). */
  locks?: boolean;
}

// 150 s: a login and a call that both hang (connect + headers timeouts, twice) still end in a
// named error (Sps.RequestTimeout) rather than in the function's own timeout.
const sps = (name: string, timeoutSeconds = 150): FunctionSpec => ({ name, memoryMb: 256, timeoutSeconds, sps: true });

/** One function per SPS operation (README, "Architecture"), plus input validation and the appliance lock. */
export const FUNCTIONS: readonly FunctionSpec[] = [
  { name: 'validate-input', memoryMb: 256, timeoutSeconds: 10, sps: false, credentials: true },
  { name: 'acquire-appliance-lock', memoryMb: 256, timeoutSeconds: 20, sps: false, locks: true },
  { name: 'release-appliance-lock', memoryMb: 256, timeoutSeconds: 20, sps: false, locks: true },
  sps('authenticate'),
  sps('get-info'),
  sps('list-firmware-slots'),
  sps('delete-firmware-slot'),
  sps('start-firmware-fetch'),
  sps('get-firmware-fetch-status'),
  sps('cancel-firmware-fetch'),
  sps('test-firmware', 300),
  sps('upgrade-firmware', 300),
  sps('create-support-bundle'),
  sps('get-support-bundle-status'),
  // Streams bundles of any size: memory for four 8 MiB part buffers and the hashing thread (peak RSS
  // 150–165 MiB in the bench), the longest timeout.
  { name: 'archive-support-bundle', memoryMb: 512, timeoutSeconds: 900, sps: true, archive: true },
  sps('delete-support-bundle'),
];

export const ROOT = join(__dirname, '..');
export const handlerEntry = (name: string) => join(ROOT, 'lambdas', 'handlers', `${name}.ts`);
export const substitutionKey = (name: string) =>
  `${name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}FunctionArn`;
