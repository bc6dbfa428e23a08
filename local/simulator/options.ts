import { randomBytes } from 'node:crypto';
import type { InitialState, ScenarioName } from './scenarios';

export interface ApplianceOptions extends ApplianceChecklist {
  name: string;
  scenario?: ScenarioName;
  username?: string;
  password?: string;
  /** The running version. */
  firmwareVersion?: string;
  slotCount?: number;
  sessionIdleSeconds?: number;
  rebootSeconds?: number;
  firmwareBytes?: number;
  fetchBytesPerSecond?: number;
  bundleBytes?: number;
  bundleGenerateSeconds?: number;
  /** The POST answer's shape: the vendor sample's list, or a top-level `key` (seen in public client code). */
  bundleCreateResponse?: 'items' | 'key';
  /** What a fetch of a URL installs (else the first x.y.z in the URL, else 8.0.1). */
  firmwareCatalog?: Array<{ url: string; version: string; sha256?: string }>;
  /** `foreign-fetch`: the version the operator's download installs (else as for any fetch of its URL). */
  foreignFetchVersion?: string;
  /** `body.roles` of the authenticated `/api/info` (empty on a standalone appliance, NOTES §2.5). */
  roles?: string[];
  /**
   * The name of the cluster the appliance is a node of. The nodes of a cluster are the appliances
   * naming it; their `roles` must follow the vendor's rules (one Central Management node, one
   * Search Master, one search role each). See `clusterAppliances` for a ready layout.
   */
  cluster?: string;
  /** What `GET /api/integrated_products` lists (none by default). */
  integratedProducts?: IntegratedProduct[];
}

/**
 * What the vendor's upgrade checklist looks at on an appliance, as the preflight reads it over REST
 * (GETs only). Settable per appliance and by a scenario's `initial` (an option given explicitly wins).
 */
export interface ApplianceChecklist {
  /** `system_details.disk.percent` of `/api/health_status`: the used share of the disk. */
  diskUsedPercent?: number;
  /** `health_status.firmware.integrity`, per part. */
  firmwareIntegrity?: Partial<Record<FirmwarePart, 'OK' | 'CORRUPTED'>>;
  /** `health_status.raid`: all four disks OK, one failed, or no RAID at all (the key is absent). */
  raid?: 'OK' | 'DEGRADED' | null;
  /** Sessions the appliance proxies right now, per protocol (`sessions_total` is their sum). */
  sessionsInProgress?: Partial<Record<SessionProtocol, number>>;
  /** The key of the system backup's policy; null when none is set. */
  backupPolicy?: string | null;
  /** Whether system backups are encrypted (with a GPG key). */
  backupEncryption?: boolean;
  /** Whether the cluster interface (`/api/configuration/local_services/cluster`) is enabled. */
  clusterInterface?: boolean;
  /** The uploaded plugins (by default one healthy, unused AA plugin without version bounds). */
  plugins?: readonly PluginOptions[];
  /** A warning `GET /api/integrated_products` adds (the two the vendor page documents). */
  starlingWarning?: 'unavailable' | 'invalid-credentials' | null;
  /** False: a firmware without `/api/health_status` (404 NotFound). */
  healthStatusEndpoint?: boolean;
  /** False: the user lacks the privilege for the configuration (403 Unauthorized on `/api/configuration/*`). */
  configurationPrivilege?: boolean;
}

export type FirmwarePart = 'boot' | 'core';
export const SESSION_PROTOCOLS = ['http', 'ica', 'mssql', 'rdp', 'ssh', 'telnet', 'vnc'] as const;
export type SessionProtocol = (typeof SESSION_PROTOCOLS)[number];

/** The plugin types of `/api/configuration/plugins/<type>`, in the order the vendor's meta links chain them. */
export const PLUGIN_TYPES = ['aa', 'credentialstore', 'signingca', 'configuration_sync', 'ticketing'] as const;
export type PluginType = (typeof PLUGIN_TYPES)[number];
export const INTEGRITY_CHECKS = ['zip_checksum', 'zip_content', 'unregistered'] as const;
export type IntegrityCheck = (typeof INTEGRITY_CHECKS)[number];
export type Verdict = 'passed' | 'failed' | 'unavailable';

export interface PluginOptions {
  type: PluginType;
  /** 22 lowercase hex digits, like the vendor samples' keys (else derived from the type and name). */
  key?: string;
  /** Else `AAPluginExample` and the like. */
  name?: string;
  version?: string;
  /** `scb_min_version` / `scb_max_version`: "" (the default) is no bound. */
  scbMinVersion?: string;
  scbMaxVersion?: string;
  /** An `aa_plugin_instances` item refers to it (AA plugins only: the one documented instance list). */
  inUse?: boolean;
  /** `GET /api/plugin/integrity` verdicts; by default those of the vendor sample: passed, passed, unavailable. */
  integrity?: Partial<Record<IntegrityCheck, Verdict>>;
}

export interface IntegratedProduct {
  name: string;
  link: string | null;
  activated: boolean;
}

/** What an operator enters when starting a download in the web interface (see `Appliance.startFetch`). */
export interface OperatorFetch {
  /** Else what any fetch of the URL installs. */
  version?: string;
  /** Else the checksum is the right one. */
  sha256?: string;
  /** The download is already over and filled a slot. */
  finished?: boolean;
}

/** The options with every default filled in (the scenario's initial state among them). */
export type Settings = Required<Omit<ApplianceOptions, 'scenario' | 'foreignFetchVersion' | 'cluster'>> &
  Pick<ApplianceOptions, 'foreignFetchVersion'>;

/** The happy appliance: nothing in the checklist stands in the way of an upgrade. */
const CHECKLIST_DEFAULTS: Required<ApplianceChecklist> = {
  diskUsedPercent: 40,
  firmwareIntegrity: {},
  raid: 'OK',
  sessionsInProgress: {},
  backupPolicy: '5093582605d5e8b0b51bd1',
  backupEncryption: true,
  clusterInterface: false,
  plugins: [{ type: 'aa' }],
  starlingWarning: null,
  healthStatusEndpoint: true,
  configurationPrivilege: true,
};

/** Each checklist item: the option given, else the scenario's, else the default (null counts as given). */
function checklist(options: ApplianceChecklist, initial: ApplianceChecklist): Required<ApplianceChecklist> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(CHECKLIST_DEFAULTS) as Array<keyof ApplianceChecklist>) {
    out[key] =
      options[key] !== undefined ? options[key] : initial[key] !== undefined ? initial[key] : CHECKLIST_DEFAULTS[key];
  }
  return out as Required<ApplianceChecklist>;
}

export function withDefaults(options: ApplianceOptions, initial: InitialState = {}): Settings {
  const firmwareCatalog = options.firmwareCatalog ?? [];
  const catalogVersion = firmwareCatalog[0]?.version ?? '8.0.1';
  return {
    name: options.name,
    username: options.username ?? 'admin',
    password: options.password ?? `sim-${randomBytes(12).toString('hex')}`,
    firmwareVersion: options.firmwareVersion ?? (initial.runsCatalogVersion ? catalogVersion : '7.5.1'),
    slotCount: options.slotCount ?? 4,
    sessionIdleSeconds: options.sessionIdleSeconds ?? 600,
    rebootSeconds: options.rebootSeconds ?? initial.rebootSeconds ?? 300,
    firmwareBytes: options.firmwareBytes ?? 1_521_614_848,
    fetchBytesPerSecond: options.fetchBytesPerSecond ?? 1_300_000,
    bundleBytes: options.bundleBytes ?? 8 * 1024 * 1024,
    bundleGenerateSeconds: options.bundleGenerateSeconds ?? 90,
    bundleCreateResponse: options.bundleCreateResponse ?? 'items',
    firmwareCatalog,
    foreignFetchVersion: options.foreignFetchVersion,
    roles: [...(options.roles ?? initial.roles ?? [])],
    integratedProducts: options.integratedProducts ?? [],
    ...checklist(options, initial),
  };
}
