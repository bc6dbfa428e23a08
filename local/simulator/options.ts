import { randomBytes } from 'node:crypto';
import type { InitialState, ScenarioName } from './scenarios';

export interface ApplianceOptions {
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
  /** What `GET /api/integrated_products` lists (none by default). */
  integratedProducts?: IntegratedProduct[];
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
export type Settings = Required<Omit<ApplianceOptions, 'scenario' | 'foreignFetchVersion'>> &
  Pick<ApplianceOptions, 'foreignFetchVersion'>;

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
    roles: options.roles ?? [],
    integratedProducts: options.integratedProducts ?? [],
  };
}
