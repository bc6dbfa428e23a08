import { randomUUID } from 'node:crypto';
import type { OperatorFetch, Settings } from '../options';
import type { Behaviour, InitialState } from '../scenarios';
import { fetchView, QUEUED_MS, VERIFY_MS, type FetchJob } from './fetch-view';

/*
 * An appliance's firmware: the slots, the fetch jobs that fill them, and the reboot an upgrade
 * starts. Time-driven state is applied by `settle` from the simulator clock.
 */

export interface SlotState {
  key: string;
  version?: string;
  current: boolean;
  afterReboot: boolean;
}

interface Reboot {
  startAt: number;
  endAt: number;
  slotKey: string;
  /** The slot that was running when the upgrade was asked for. */
  previousSlotKey: string;
  /** `upgrade-reverts`: the appliance comes back on `previousSlotKey`. */
  reverts: boolean;
  applied: boolean;
  sessionsDropped: boolean;
}

type FirmwareSettings = Pick<
  Settings,
  | 'name'
  | 'firmwareVersion'
  | 'slotCount'
  | 'rebootSeconds'
  | 'firmwareBytes'
  | 'fetchBytesPerSecond'
  | 'firmwareCatalog'
  | 'foreignFetchVersion'
  | 'diskUsedPercent'
  | 'firmwareIntegrity'
>;

/** inferred: the docs name the storage check but not its limit. */
const PRECHECK_MAX_DISK_USED_PERCENT = 90;

const DEFAULT_FETCH_URL = 'https://downloads.example.internal/sps-8.0.1.iso';
const OLDER_VERSIONS = ['7.0.1', '7.1.0', '7.2.0', '7.3.0', '7.4.0'];

export class Firmware {
  /** The running version. */
  version: string;
  readonly slots: SlotState[];
  private readonly fetches: FetchJob[] = [];
  private reboot: Reboot | undefined;

  constructor(
    private readonly settings: FirmwareSettings,
    readonly behaviour: () => Behaviour,
    /** A reboot ends every session. */
    private readonly dropSessions: () => void,
    now: number,
    initial: InitialState = {},
  ) {
    this.version = settings.firmwareVersion;
    this.slots = Array.from({ length: settings.slotCount }, (_, i) => {
      const key = String(i + 1);
      if (i === 0) return { key, version: this.version, current: true, afterReboot: true };
      if (initial.fullSlots)
        return { key, version: OLDER_VERSIONS[i - 1] ?? '6.9.0', current: false, afterReboot: false };
      return { key, current: false, afterReboot: false };
    });
    if (initial.operatorFetch) {
      // An operator started a download in the web interface a little earlier: it is running.
      const url = settings.firmwareCatalog[0]?.url ?? DEFAULT_FETCH_URL;
      const ranMs = Math.min(30_000, this.downloadMs() / 10);
      this.addFetch(url, settings.foreignFetchVersion ?? this.versionFor(url), true, now - QUEUED_MS - ranMs);
    }
  }

  /** Applies everything that happened up to `now`: finished fetches fill slots, reboots complete. */
  settle(now: number): void {
    for (const job of this.fetches) {
      if (job.outcome || job.canceledAt !== undefined) continue;
      const end = job.createdAt + this.fetchMs();
      if (this.behaviour().fetchFails || now < end) continue;
      if (!job.checksumOk) {
        job.outcome = {
          status: 'failed',
          error: 'Checksum verification failed: the SHA-256 of the downloaded image does not match',
        };
        continue;
      }
      const empty = this.emptySlot();
      if (!empty) {
        job.outcome = { status: 'failed', error: 'No empty firmware slot' };
        continue;
      }
      empty.version = job.version;
      job.outcome = { status: 'finished', slotId: Number(empty.key) };
    }
    const r = this.reboot;
    if (r && now >= r.startAt && !r.sessionsDropped) {
      this.dropSessions();
      r.sessionsDropped = true;
    }
    if (r && !r.applied && now >= r.endAt) {
      // upgrade-reverts: the new firmware did not come up; the appliance booted the old one again.
      const booted = r.reverts ? r.previousSlotKey : r.slotKey;
      for (const s of this.slots) {
        const target = s.key === booted;
        s.current = target;
        s.afterReboot = target;
      }
      this.version = this.slots.find((s) => s.key === booted)?.version ?? this.version;
      r.applied = true;
    }
  }

  // ---- slots --------------------------------------------------------------------------------

  slot(key: string): SlotState | undefined {
    return this.slots.find((s) => s.key === key);
  }

  private emptySlot(): SlotState | undefined {
    return this.slots.find((s) => s.version === undefined);
  }

  // ---- fetch jobs ---------------------------------------------------------------------------

  /** The jobs `GET /api/firmware/fetch` lists (a second DELETE removes one). */
  listedFetches(): FetchJob[] {
    return this.fetches.filter((f) => !f.removed);
  }

  fetchView(job: FetchJob, now: number) {
    return fetchView(job, now, {
      bytes: this.settings.firmwareBytes,
      downloadMs: this.downloadMs(),
      fails: this.behaviour().fetchFails ?? false,
    });
  }

  /** From creation to finished: queued, downloading, verifying the checksum. */
  fetchMs(): number {
    return QUEUED_MS + this.downloadMs() + VERIFY_MS;
  }

  /** A fetch through the REST API; the checksum is checked against the catalog's, where it has one. */
  requestFetch(url: string, sha256: string, now: number): FetchJob {
    const entry = this.catalogEntry(url);
    const checksumOk = !entry?.sha256 || entry.sha256.toLowerCase() === sha256.toLowerCase();
    return this.addFetch(url, this.versionFor(url), checksumOk, now, false);
  }

  /**
   * What an operator starting a download in the web interface does (a fetch job like the REST
   * API's). With `finished`, the download is already over and filled the first empty slot.
   */
  startFetch(now: number, url: string, options: OperatorFetch): FetchJob {
    const entry = this.catalogEntry(url);
    const checksumOk = !entry?.sha256 || !options.sha256 || entry.sha256.toLowerCase() === options.sha256.toLowerCase();
    const job = this.addFetch(url, options.version ?? this.versionFor(url), checksumOk, now);
    if (options.finished) {
      const empty = this.emptySlot();
      if (!empty) throw new Error(`${this.settings.name}: no empty firmware slot for a finished download`);
      job.createdAt = now - this.fetchMs();
      empty.version = job.version;
      job.outcome = { status: 'finished', slotId: Number(empty.key) };
    }
    return job;
  }

  /** What an administrator canceling every running download in the web interface does. */
  cancelFetches(now: number): void {
    for (const job of this.fetches) {
      const status = this.fetchView(job, now).status;
      if (status === 'queued' || status === 'in-progress') job.canceledAt = now;
    }
  }

  private downloadMs(): number {
    return (this.settings.firmwareBytes / this.settings.fetchBytesPerSecond) * 1000;
  }

  private catalogEntry(url: string) {
    return this.settings.firmwareCatalog.find((c) => c.url === url);
  }

  /** What a fetch of `url` installs: the catalog's version, else the first x.y.z in the URL, else 8.0.1. */
  private versionFor(url: string): string {
    return this.catalogEntry(url)?.version ?? /(\d+\.\d+\.\d+)/.exec(url)?.[1] ?? '8.0.1';
  }

  private addFetch(url: string, version: string, checksumOk: boolean, createdAt: number, operator = true): FetchJob {
    const job: FetchJob = { key: randomUUID(), url, version, checksumOk, createdAt, removed: false, operator };
    this.fetches.push(job);
    return job;
  }

  // ---- upgrade and reboot -------------------------------------------------------------------

  /**
   * What the precheck finds wrong besides a scenario's failure: two of the areas the vendor page
   * lists, "storage space" and "tainted firmware" (manually modified files).
   */
  precheckFindings(): string[] {
    const { diskUsedPercent, firmwareIntegrity } = this.settings;
    return [
      ...(diskUsedPercent >= PRECHECK_MAX_DISK_USED_PERCENT
        ? [`Storage check failed: ${diskUsedPercent}% of the disk is used`]
        : []),
      ...(['boot', 'core'] as const)
        .filter((part) => firmwareIntegrity[part] === 'CORRUPTED')
        .map((part) => `Firmware integrity check failed: the ${part} firmware has modified files`),
    ];
  }

  /** Boots `slot` after a reboot that starts in 2 s (reverting to the running slot where the scenario says so). */
  upgrade(slot: SlotState, now: number): void {
    const startAt = now + 2_000;
    this.reboot = {
      startAt,
      endAt: startAt + this.settings.rebootSeconds * 1000,
      slotKey: slot.key,
      previousSlotKey: this.slots.find((s) => s.current)?.key ?? slot.key,
      reverts: this.behaviour().upgradeReverts ?? false,
      applied: false,
      sessionsDropped: false,
    };
    for (const s of this.slots) s.afterReboot = s.key === slot.key;
  }

  /** Down: new connections are refused (destroyed). The last 20 % of a reboot answers 503 instead. */
  isDown(now: number): boolean {
    const r = this.reboot;
    return !!r && !r.applied && now >= r.startAt && now < r.startAt + 0.8 * (r.endAt - r.startAt);
  }

  isRebooting(now: number): boolean {
    const r = this.reboot;
    return !!r && !r.applied && now >= r.startAt && now < r.endAt;
  }

  /** When the reboot under way began; undefined when the appliance is not rebooting. */
  rebootStartedAt(now: number): number | undefined {
    return this.isRebooting(now) ? this.reboot!.startAt : undefined;
  }
}
