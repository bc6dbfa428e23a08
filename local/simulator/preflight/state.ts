import { createHash } from 'node:crypto';
import type { SimAction, SimRequest } from '../answers';
import type { ApplianceChecklist, IntegrityCheck, PluginOptions, PluginType, Settings, Verdict } from '../options';
import type { Behaviour } from '../scenarios';

/*
 * What the vendor's upgrade checklist reads of an appliance (health, system backup, cluster
 * interface, plugins), and the configuration's hash, which changes whenever the configuration does.
 */

export interface Plugin {
  type: PluginType;
  key: string;
  name: string;
  version: string;
  scbMinVersion: string;
  scbMaxVersion: string;
  sha256sum: string;
  integrity: Record<IntegrityCheck, Verdict>;
  /** The key of the `aa_plugin_instances` item that refers to it (in use), if any. */
  instanceKey: string | undefined;
}

type PreflightSettings = Pick<Settings, 'name' | keyof ApplianceChecklist>;

/** A plugin key as the vendor samples write them (`2080160955734bb2a1ddf9`); anything else is InvalidFormat. */
export const PLUGIN_KEY = /^[0-9a-f]{22}$/;

const hex = (text: string, digits: number) => createHash('sha256').update(text).digest('hex').slice(0, digits);

const SAMPLE_NAMES: Record<PluginType, string> = {
  aa: 'AAPluginExample',
  credentialstore: 'CredentialStorePluginExample',
  signingca: 'SigningCaPluginExample',
  configuration_sync: 'ConfigurationSyncPluginExample',
  ticketing: 'TicketingPluginExample',
};

function plugin(options: PluginOptions, index: number, appliance: string): Plugin {
  const name = options.name ?? `${SAMPLE_NAMES[options.type]}${index ? index + 1 : ''}`;
  const version = options.version ?? '1.1';
  const key = options.key ?? hex(`plugin/${options.type}/${name}/${index}`, 22);
  if (!PLUGIN_KEY.test(key)) throw new Error(`${appliance}: plugin key ${key} is not 22 lowercase hex digits`);
  if (options.inUse && options.type !== 'aa') {
    throw new Error(`${appliance}: only AA plugins can be in use (aa_plugin_instances); ${name} is ${options.type}`);
  }
  return {
    type: options.type,
    key,
    name,
    version,
    scbMinVersion: options.scbMinVersion ?? '',
    scbMaxVersion: options.scbMaxVersion ?? '',
    sha256sum: hex(`${name}-${version}.zip`, 64),
    // The vendor sample's verdicts: the .zip checks passed; the Starling check is not available.
    integrity: { zip_checksum: 'passed', zip_content: 'passed', unregistered: 'unavailable', ...options.integrity },
    instanceKey: options.inUse ? hex(`instance/${key}`, 22) : undefined,
  };
}

export class PreflightState {
  readonly plugins: readonly Plugin[];
  private configurationChanges = 0;
  private changedByScenario = false;

  constructor(readonly settings: PreflightSettings) {
    this.plugins = settings.plugins.map((p, i) => plugin(p, i, settings.name));
    const keys = this.plugins.map((p) => p.key);
    const twice = keys.find((k, i) => keys.indexOf(k) !== i);
    if (twice) throw new Error(`${settings.name}: two plugins have the key ${twice}`);
  }

  /** `config_hash` of `/api/info` ("the hash of the XML database"): 32 hex digits, like the sample's. */
  get configHash(): string {
    return hex(`${this.settings.name}#${this.configurationChanges}`, 32);
  }

  /** What an administrator committing a change in the web interface does. */
  changeConfiguration(): void {
    this.configurationChanges++;
  }

  pluginsOf(type: string): Plugin[] {
    return this.plugins.filter((p) => p.type === type);
  }

  /** The plugins an `aa_plugin_instances` item refers to. */
  inUse(): Plugin[] {
    return this.plugins.filter((p) => p.instanceKey !== undefined);
  }

  /** config-changes: once the first precheck is answered 200, the configuration changes (once). */
  answered(req: SimRequest, action: SimAction, behaviour: Behaviour): void {
    if (!behaviour.configChangesAfterPrecheck || this.changedByScenario) return;
    if (req.method !== 'POST' || req.path !== '/api/firmware/test') return;
    if (action.kind !== 'json' || action.status !== 200) return;
    this.changedByScenario = true;
    this.changeConfiguration();
  }
}
