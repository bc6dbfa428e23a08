import { serviceUnavailable, type SimAction, type SimRequest } from './answers';
import { BUNDLE_ROUTES, SupportBundles } from './bundles';
import { Faults, type Fault } from './faults';
import { Firmware } from './firmware/firmware';
import { FIRMWARE_ROUTES } from './firmware/routes';
import { CLUSTER_ROUTES, type Cluster } from './cluster';
import { INFO_ROUTES, INTEGRATED_PRODUCTS_ROUTES } from './info';
import { withDefaults, type ApplianceOptions, type OperatorFetch, type Settings } from './options';
import { CONFIGURATION_ROUTES, privilegeRequired } from './preflight/configuration';
import { HEALTH_ROUTES } from './preflight/health';
import { PLUGIN_ROUTES } from './preflight/plugins';
import { PreflightState } from './preflight/state';
import { lengthRequired, readJson, tokenRequired } from './protocol';
import { Router } from './router';
import { scenarioNamed, type Behaviour, type ScenarioName } from './scenarios';
import { SESSION_ROUTES, Sessions, unauthenticated } from './sessions';

/*
 * One simulated SPS appliance: its state and its REST API, as the vendor pages and
 * ../shared/sps-api/NOTES.md describe them. Time-driven state (downloads, bundle jobs, reboots,
 * session expiry) is derived from the simulator clock on every request, so jumping the clock ahead
 * is deterministic. Status codes the docs leave open are marked "inferred".
 */

/** Every endpoint, by concern; a new concern is a module of routes and one `mount` here. */
const ROUTER = new Router<Appliance>()
  .mount(SESSION_ROUTES, (a) => a.sessions)
  .mount(INFO_ROUTES, (a) => a)
  .mount(INTEGRATED_PRODUCTS_ROUTES, (a) => a)
  .mount(FIRMWARE_ROUTES, (a) => a.firmware)
  .mount(BUNDLE_ROUTES, (a) => a.bundles)
  .mount(HEALTH_ROUTES, (a) => a.preflight)
  .mount(CONFIGURATION_ROUTES, (a) => a.preflight)
  .mount(PLUGIN_ROUTES, (a) => a.preflight)
  .mount(CLUSTER_ROUTES, (a) => a);

export class Appliance {
  readonly name: string;
  readonly username: string;
  readonly password: string;
  scenario: ScenarioName;
  readonly settings: Settings;
  readonly sessions: Sessions;
  readonly firmware: Firmware;
  readonly bundles: SupportBundles;
  /** What the upgrade checklist reads: health, backup, cluster interface, plugins, the config hash. */
  readonly preflight: PreflightState;
  /** The cluster the appliance is a node of (set when the simulator forms it). */
  cluster: Cluster | undefined;
  private readonly faults = new Faults();

  constructor(options: ApplianceOptions, now: number) {
    this.scenario = options.scenario ?? 'happy';
    const initial = scenarioNamed(this.scenario).initial;
    this.settings = withDefaults(options, initial);
    this.name = this.settings.name;
    this.username = this.settings.username;
    this.password = this.settings.password;
    const behaviour = () => this.behaviour;
    this.sessions = new Sessions(this.settings, behaviour);
    this.firmware = new Firmware(this.settings, behaviour, () => this.sessions.clear(), now, initial);
    this.bundles = new SupportBundles(this.settings, behaviour, (req) => this.faults.truncates(req), now, initial);
    this.preflight = new PreflightState(this.settings);
  }

  /** The current scenario's switches (switching scenario takes effect at the next request). */
  get behaviour(): Behaviour {
    return scenarioNamed(this.scenario);
  }

  /** The running version. */
  get firmwareVersion(): string {
    return this.firmware.version;
  }

  /** `config_hash` of the authenticated `/api/info`. */
  get configHash(): string {
    return this.preflight.configHash;
  }

  /** Every session id this appliance ever issued (tests scan outputs for them). */
  get issuedSessionIds(): readonly string[] {
    return this.sessions.issuedIds;
  }

  // ---- inspection (tests) ---------------------------------------------------------------------

  injectFault(fault: Fault): void {
    this.faults.inject(fault);
  }

  expireSessions(): void {
    this.sessions.clear();
  }

  /** What an administrator committing a configuration change does: `config_hash` changes. */
  changeConfiguration(): void {
    this.preflight.changeConfiguration();
  }

  /** What an administrator canceling every running download in the web interface does. */
  cancelFetches(now: number): void {
    this.settle(now);
    this.firmware.cancelFetches(now);
  }

  /**
   * What an operator starting a download in the web interface does (a fetch job like the REST
   * API's). With `finished`, the download is already over and filled the first empty slot.
   */
  startFetch(now: number, url: string, options: OperatorFetch = {}): string {
    this.settle(now);
    return this.firmware.startFetch(now, url, options).key;
  }

  expectedBundle(key: string): { bytes: number; sha256: string; fileName: string } {
    return this.bundles.expected(key);
  }

  state(now: number) {
    this.settle(now);
    const firmware = this.firmware;
    return {
      firmwareVersion: firmware.version,
      rebooting: firmware.isRebooting(now),
      sessions: this.sessions.size,
      slots: firmware.slots.map((s) => ({ ...s })),
      // finishesAt (simulated clock): when the download is done; benches measure detection lag with it.
      fetchJobs: firmware.listedFetches().map((f) => ({
        key: f.key,
        operator: f.operator,
        finishesAt: f.createdAt + firmware.fetchMs(),
        ...firmware.fetchView(f, now),
      })),
      bundles: this.bundles.visible(now).map((b) => ({ key: b.key, ...this.bundles.view(b, now) })),
      configHash: this.preflight.configHash,
      // The keys of the aa_plugin_instances items (their list shows none, as in the vendor sample).
      pluginInstances: this.preflight.inUse().map((p) => ({ key: p.instanceKey!, plugin: p.key })),
    };
  }

  /** Down: new connections are refused (destroyed). The last 20 % of a reboot answers 503 instead. */
  isDown(now: number): boolean {
    return this.firmware.isDown(now);
  }

  // ---- requests -----------------------------------------------------------------------------

  handle(req: SimRequest, now: number): SimAction {
    const action = this.respond(req, now);
    this.preflight.answered(req, action, this.behaviour);
    return this.faults.losesAnswer(req) ? { kind: 'reset' } : action;
  }

  /** Applies everything that happened up to `now` (finished fetches, reboots). */
  private settle(now: number): void {
    this.firmware.settle(now);
  }

  /**
   * Injected faults first, then the reboot, the protocol rules, the flaky scenarios' bursts, the
   * public routes (login, /api/info), the session, the privilege and the body; then the endpoint.
   */
  private respond(req: SimRequest, now: number): SimAction {
    this.settle(now);
    const early =
      this.faults.take(req) ??
      (this.firmware.isRebooting(now) ? serviceUnavailable : undefined) ??
      lengthRequired(req) ??
      tokenRequired(req) ??
      this.faults.flaky(req, this.behaviour) ??
      ROUTER.public(req, now, this);
    if (early) return early;

    if (!this.sessions.authenticate(req, now)) return unauthenticated(req);
    const refused = privilegeRequired(req, this.preflight);
    if (refused) return refused;
    const json = readJson(req);
    if ('refused' in json) return json.refused;
    return ROUTER.route(req, now, this, json.body, { remaining_seconds: this.settings.sessionIdleSeconds });
  }
}
