import type { ApplianceChecklist } from './options';

/*
 * Scenarios as data: what an appliance starts with, and how it misbehaves. A new scenario is one
 * entry of SCENARIO_TABLE; a new kind of misbehaviour is a switch here, read where it applies.
 */

/** How an appliance misbehaves: the switches a scenario sets. */
export interface Behaviour {
  /** `POST /api/firmware/test` and `/upgrade` answer FirmwareTestFailed. */
  precheckFails?: boolean;
  /** Downloads fail 30 % of the way in (a refused connection) and never fill a slot. */
  fetchFails?: boolean;
  /** Support-bundle jobs created now end `failed`. */
  bundleFails?: boolean;
  /** A session serves this many requests; the next gets a 401 (or the anonymous /api/info). */
  sessionRequests?: number;
  /** On every 4th GET or DELETE (logins aside), a burst of two such failures. */
  flaky?: 'http-503' | 'reset';
  /** The first download of each support bundle breaks off halfway. */
  truncateFirstDownload?: boolean;
  /** The upgrade is carried out, but the web server in front of the API answers 502 (an HTML page). */
  upgradeAnswers502?: boolean;
  /** The appliance reboots after an upgrade and comes back on the previous firmware. */
  upgradeReverts?: boolean;
  /**
   * Someone changes the configuration (a new `config_hash` in `/api/info`) right after the first
   * precheck (`POST /api/firmware/test`) the appliance answers 200, once. Tests that need another
   * moment call `changeConfiguration()` themselves.
   */
  configChangesAfterPrecheck?: boolean;
}

/** What an appliance starts with (options given explicitly win). */
export interface InitialState extends ApplianceChecklist {
  /** `body.roles` of the authenticated `/api/info`. */
  roles?: readonly string[];
  /** It already runs what a fetch of the catalog's first URL installs (8.0.1 without a catalog). */
  runsCatalogVersion?: boolean;
  rebootSeconds?: number;
  /** Every slot besides the running one holds an older firmware. */
  fullSlots?: boolean;
  /** Someone else's support-bundle job is running, taking this many times as long as ours will. */
  queuedBundle?: { generateFactor: number };
  /** An operator started a download of the catalog's first URL in the web interface: it is running. */
  operatorFetch?: boolean;
}

/**
 * `initial` is applied once, when the appliance is created; the behaviour switches are read on
 * every request, so switching an appliance's scenario (tests do) takes effect at once.
 */
export interface Scenario extends Behaviour {
  initial?: InitialState;
}

const OUT_OF_RANGE_PLUGIN = {
  type: 'aa',
  name: 'LegacyMfaPlugin',
  version: '2.3',
  scbMinVersion: '7.0',
  scbMaxVersion: '7.4',
  inUse: true,
} as const;

const SCENARIO_TABLE = {
  happy: {},
  'precheck-fails': { precheckFails: true },
  'fetch-fails': { fetchFails: true },
  'no-empty-slot': { initial: { fullSlots: true } },
  'already-current': { initial: { runsCatalogVersion: true } },
  'bundle-fails': { bundleFails: true },
  // Someone else's job takes twice as long: ours waits behind it.
  'busy-bundle-queue': { initial: { queuedBundle: { generateFactor: 2 } } },
  'session-expires': { sessionRequests: 3 },
  'flaky-5xx': { flaky: 'http-503' },
  'connection-resets': { flaky: 'reset' },
  'truncated-download': { truncateFirstDownload: true },
  'slow-reboot': { initial: { rebootSeconds: 3600 } },
  // The appliance goes down for the upgrade's reboot and never comes back.
  'reboot-never-returns': { initial: { rebootSeconds: Infinity } },
  'upgrade-502': { upgradeAnswers502: true },
  'upgrade-reverts': { upgradeReverts: true },
  'foreign-fetch': { initial: { operatorFetch: true } },
  // The vendor's upgrade checklist, as the preflight reads it (GETs only).
  'low-disk': { initial: { diskUsedPercent: 95 } },
  'firmware-corrupted': { initial: { firmwareIntegrity: { core: 'CORRUPTED' } } },
  'raid-degraded': { initial: { raid: 'DEGRADED' } },
  'sessions-active': { initial: { sessionsInProgress: { ssh: 3, rdp: 2 } } },
  'no-backup-policy': { initial: { backupPolicy: null } },
  // The appliance runs 7.5.1 (the default); the upgrade goes to 8.0.1. The plugin allows up to 7.4.
  'plugin-out-of-range-in-use': { initial: { plugins: [OUT_OF_RANGE_PLUGIN] } },
  'plugin-out-of-range-unused': { initial: { plugins: [{ ...OUT_OF_RANGE_PLUGIN, inUse: false }] } },
  'plugin-integrity-failed': { initial: { plugins: [{ type: 'aa', integrity: { zip_content: 'failed' } }] } },
  'starling-warning': { initial: { starlingWarning: 'unavailable' } },
  'no-health-status': { initial: { healthStatusEndpoint: false } },
  'no-config-privilege': { initial: { configurationPrivilege: false } },
  'cluster-member': { initial: { roles: ['managed-host', 'search-minion'], clusterInterface: true } },
  'config-changes': { configChangesAfterPrecheck: true },
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIO_TABLE;

/** Every scenario's name, in the order the CLI and the README list them. */
export const SCENARIOS = Object.keys(SCENARIO_TABLE) as readonly ScenarioName[];

/** An unknown name (from JavaScript) behaves as `happy`. */
export function scenarioNamed(name: ScenarioName): Scenario {
  return Object.hasOwn(SCENARIO_TABLE, name) ? SCENARIO_TABLE[name] : {};
}
