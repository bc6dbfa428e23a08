/*
 * The operations, one Lambda function each: the one table that the handlers' registry
 * (`./index.ts`), the local engine, the CDK stack (`infra/functions.ts`) and the ASL tests read.
 * Plain data, so infra may import it without pulling in handler code. A name added here without an
 * operation in `OPERATIONS` or a handler file does not compile or fails a test.
 */

/** Where the functions keep each appliance's SPS session (`<prefix><name>`); the stack grants exactly this prefix. */
export const SESSION_SECRET_PREFIX = 'sps-workflows/sessions/';

/** The event that announces a firmware release (README, "Fleet upgrade"): one rule starts a fleet upgrade. */
export const RELEASE_EVENT = { source: 'sps-workflows', detailType: 'SPS Firmware Release' } as const;

/** What a fleet upgrade waiting for a person puts on the bus (README, "Fleet upgrade"); a rule sends it to the topic. */
export const APPROVAL_EVENT = 'Fleet Approval Requested';

export interface OperationSpec {
  memoryMb: number;
  timeoutSeconds: number;
  /** Talks to appliances: reads credentials secrets, reads and writes session secrets. */
  sps: boolean;
  /** Reads credentials secrets only (resolves an appliance named alone, checks its endpoint). */
  credentials?: boolean;
  /** Writes support bundles to the archive bucket. */
  archive?: boolean;
  /** Lists the registry: the names of the credentials secrets, never their values. */
  registry?: boolean;
  /** Stores fleet reports under `reports/` in the archive bucket. */
  reports?: boolean;
  /** Takes and gives up appliance locks (the lock table; the workflows' executions, to see a holder still runs). */
  locks?: boolean;
}

// 150 s: a login and a call that both hang (connect + headers timeouts, twice) still end in a
// named error (Sps.RequestTimeout) rather than in the function's own timeout.
const sps = (timeoutSeconds = 150): OperationSpec => ({ memoryMb: 256, timeoutSeconds, sps: true });

export const OPERATION_SPECS = {
  'validate-input': { memoryMb: 256, timeoutSeconds: 10, sps: false, credentials: true },
  'acquire-appliance-lock': { memoryMb: 256, timeoutSeconds: 20, sps: false, locks: true },
  'release-appliance-lock': { memoryMb: 256, timeoutSeconds: 20, sps: false, locks: true },
  authenticate: sps(),
  'get-info': sps(),
  'start-firmware-fetch': sps(),
  'get-firmware-fetch-status': sps(),
  'cancel-firmware-fetch': sps(),
  // The precheck and the upgrade may take 220 s to answer (LONG_CALL_HEADERS_MS), after a login.
  'test-firmware': sps(300),
  'upgrade-firmware': sps(300),
  'create-support-bundle': sps(),
  'get-support-bundle-status': sps(),
  // Streams bundles of any size: memory for four 8 MiB part buffers, and the longest timeout.
  'archive-support-bundle': { memoryMb: 512, timeoutSeconds: 900, sps: true, archive: true },
  'delete-support-bundle': sps(),
  // A dozen GETs, and two per plugin.
  'run-preflight': sps(),
  'run-postcheck': sps(),
  // Resolves and inventories the whole fleet (16 appliances at a time, a login, /api/info, and on a
  // Central Management node two reads plus one per member): a thousand appliances in minutes.
  'plan-fleet-upgrade': { memoryMb: 512, timeoutSeconds: 900, sps: true, registry: true },
  // The rollout's bookkeeping between waves: arithmetic on the state it is given.
  'advance-rollout': { memoryMb: 256, timeoutSeconds: 30, sps: false },
  'report-fleet-upgrade': { memoryMb: 256, timeoutSeconds: 30, sps: false, reports: true },
  // A login and the slot list of one appliance; the notes go beside the report.
  'read-upgrade-notes': { ...sps(), reports: true },
  // A thousand appliances are ten ListSecrets pages; the report is arithmetic.
  'plan-fleet-run': { memoryMb: 256, timeoutSeconds: 60, sps: false, registry: true },
  'report-fleet-run': { memoryMb: 256, timeoutSeconds: 30, sps: false, reports: true },
} as const satisfies Record<string, OperationSpec>;

export type OperationName = keyof typeof OPERATION_SPECS;
export const OPERATION_NAMES = Object.keys(OPERATION_SPECS) as OperationName[];

/** `get-firmware-fetch-status` → `GetFirmwareFetchStatus`: construct ids and ASL substitutions. */
export const pascalCase = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());

/** The ASL refers to each function as `${<PascalName>FunctionArn}`. */
export const substitutionKey = (name: OperationName): string => `${pascalCase(name)}FunctionArn`;
