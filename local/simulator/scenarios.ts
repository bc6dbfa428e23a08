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
}

/** What an appliance starts with (options given explicitly win). */
export interface InitialState {
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
  'upgrade-502': { upgradeAnswers502: true },
  'upgrade-reverts': { upgradeReverts: true },
  'foreign-fetch': { initial: { operatorFetch: true } },
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIO_TABLE;

/** Every scenario's name, in the order the CLI and the README list them. */
export const SCENARIOS = Object.keys(SCENARIO_TABLE) as readonly ScenarioName[];

/** An unknown name (from JavaScript) behaves as `happy`. */
export function scenarioNamed(name: ScenarioName): Scenario {
  return Object.hasOwn(SCENARIO_TABLE, name) ? SCENARIO_TABLE[name] : {};
}
