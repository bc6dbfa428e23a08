import { compareVersions, sameVersion } from './versions';

/*
 * The vendor's upgrade checklist as rules (README, "Preflight"): what the appliance answered to a
 * handful of GETs in, one verdict per check out. Pure: the operation reads, these decide.
 */

export const CHECK_IDS = [
  'firmware-api',
  'disk-space',
  'firmware-integrity',
  'raid',
  'active-sessions',
  'backup-policy',
  'backup-encryption',
  'plugins-compatible',
  'plugin-integrity',
  'integrated-products',
  'cluster-membership',
  'empty-slot',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];
export type CheckVerdict = 'pass' | 'warn' | 'fail' | 'unknown';
export type Verdict = 'pass' | 'warn' | 'fail';

export interface Check {
  id: CheckId;
  verdict: CheckVerdict;
  summary: string;
}

/** What one read gave: its answer, or why there is none (404: not on this firmware; 403: no privilege). */
export type Read<T> = { ok: true; value: T } | { ok: false; reason: string };

export interface Health {
  /** Used disk, percent (`system_details.disk.percent`). */
  diskUsedPercent?: number;
  /** `firmware.integrity`: part → "OK" | "CORRUPTED" | ... */
  integrity?: Record<string, string>;
  /** `raid.status.status`; undefined when the appliance has no RAID. */
  raid?: string;
  sessionsTotal?: number;
}

export interface Plugin {
  type: string;
  key: string;
  name: string;
  version?: string;
  /** "" or missing: no bound. */
  minVersion?: string;
  maxVersion?: string;
  /** Referenced by a plugin instance; undefined when this firmware does not say (non-AA plugins). */
  inUse?: boolean;
  /** `/api/plugin/integrity`: check → verdict ("passed", "failed", "unavailable", ...). */
  integrity: Read<Record<string, string>>;
}

export interface PreflightFacts {
  firmwareEndpoints: Read<string[]>;
  health: Read<Health>;
  backupPolicy: Read<string | null>;
  backupEncryption: Read<boolean>;
  plugins: Read<Plugin[]>;
  integratedProducts: Read<{ activated: string[]; warnings: string[] }>;
  roles: string[];
  clusterInterface: Read<boolean>;
  slots: Read<Array<{ id: string; version: string | null; current: boolean; empty: boolean }>>;
}

export interface PreflightOptions {
  minFreeDiskPercent: number;
  maxActiveSessions: number | null;
  requireBackupPolicy: boolean;
  allowClusterMember: boolean;
  /** The upgrade may free the oldest slot for the download. */
  freeOldestSlot: boolean;
}

/** The firmware endpoints the upgrade uses. */
const FIRMWARE_ENDPOINTS = ['fetch', 'slots', 'test', 'upgrade'];
/** Plugin integrity verdicts that do not stand in the way. */
const INTEGRITY_OK = new Set(['passed', 'unavailable']);

const check = (id: CheckId, verdict: CheckVerdict, summary: string): Check => ({ id, verdict, summary });

/** A check that needs `read`: `unknown` with the reason when there is no answer. */
function withRead<T>(id: CheckId, read: Read<T>, decide: (value: T) => Check): Check {
  return read.ok ? decide(read.value) : check(id, 'unknown', read.reason);
}

/**
 * Whether `target` is within a plugin's bounds. An upper bound names the last compatible release
 * line: "7.4" admits 7.4.2 (parts beyond the bound's are not compared), and "" is no bound.
 */
export function withinBounds(target: string, min?: string, max?: string): boolean {
  if (min && compareVersions(target, min) < 0) return false;
  if (!max) return true;
  const depth = max.split(/[.]/).length;
  const truncated = target.split(/[.]/).slice(0, depth).join('.');
  return compareVersions(truncated, max) <= 0;
}

const list = (names: string[]) => names.join(', ');

/** Every check, in the documented order, from what the appliance answered. */
export function evaluatePreflight(
  facts: PreflightFacts,
  targetVersion: string | null,
  options: PreflightOptions,
): Check[] {
  return [
    withRead('firmware-api', facts.firmwareEndpoints, (offered) => {
      const missing = FIRMWARE_ENDPOINTS.filter((e) => !offered.includes(e));
      return missing.length === 0
        ? check('firmware-api', 'pass', 'fetch, slots, test and upgrade are offered')
        : check(
            'firmware-api',
            'fail',
            `/api/firmware does not offer ${list(missing)}: this firmware cannot be upgraded over REST`,
          );
    }),
    withRead('disk-space', facts.health, ({ diskUsedPercent }) => {
      if (diskUsedPercent === undefined) return check('disk-space', 'unknown', 'health_status reports no disk usage');
      const free = Math.round((100 - diskUsedPercent) * 10) / 10;
      return free >= options.minFreeDiskPercent
        ? check('disk-space', 'pass', `${free} % of the disk is free (at least ${options.minFreeDiskPercent} % needed)`)
        : check(
            'disk-space',
            'fail',
            `only ${free} % of the disk is free: the upgrade needs at least ${options.minFreeDiskPercent} %`,
          );
    }),
    withRead('firmware-integrity', facts.health, ({ integrity }) => {
      if (!integrity || Object.keys(integrity).length === 0)
        return check('firmware-integrity', 'unknown', 'health_status reports no firmware integrity');
      const bad = Object.entries(integrity).filter(([, status]) => status !== 'OK');
      return bad.length === 0
        ? check('firmware-integrity', 'pass', `every part is OK (${list(Object.keys(integrity))})`)
        : check(
            'firmware-integrity',
            'fail',
            `firmware integrity: ${bad.map(([part, s]) => `${part} ${s}`).join(', ')}`,
          );
    }),
    withRead('raid', facts.health, ({ raid }) =>
      raid === undefined
        ? check('raid', 'pass', 'no RAID on this appliance')
        : raid === 'OK'
          ? check('raid', 'pass', 'RAID status OK')
          : check('raid', 'fail', `RAID status ${raid}: repair it before upgrading`),
    ),
    withRead('active-sessions', facts.health, ({ sessionsTotal }) => {
      if (sessionsTotal === undefined)
        return check('active-sessions', 'unknown', 'health_status reports no session count');
      const max = options.maxActiveSessions;
      const what = `${sessionsTotal} session(s) in progress (the upgrade's reboot ends them)`;
      return max !== null && sessionsTotal > max
        ? check('active-sessions', 'fail', `${what}, more than the ${max} allowed`)
        : check('active-sessions', 'pass', what);
    }),
    withRead('backup-policy', facts.backupPolicy, (policy) =>
      policy
        ? check('backup-policy', 'pass', `system backup policy ${policy} is set`)
        : check(
            'backup-policy',
            options.requireBackupPolicy ? 'fail' : 'warn',
            'no system backup policy: the configuration is not backed up before the upgrade',
          ),
    ),
    withRead('backup-encryption', facts.backupEncryption, (enabled) =>
      enabled
        ? check('backup-encryption', 'pass', 'system backups are encrypted')
        : check('backup-encryption', 'warn', 'system backups are not encrypted'),
    ),
    withRead('plugins-compatible', facts.plugins, (plugins) => {
      if (plugins.length === 0) return check('plugins-compatible', 'pass', 'no plugins');
      if (!targetVersion)
        return check('plugins-compatible', 'unknown', 'no target version to check the plugins against');
      const outside = plugins.filter((p) => !withinBounds(targetVersion, p.minVersion, p.maxVersion));
      if (outside.length === 0)
        return check('plugins-compatible', 'pass', `${plugins.length} plugin(s) support ${targetVersion}`);
      const describe = (p: Plugin) =>
        `${p.type} plugin ${p.name} (supports ${p.minVersion || 'any'}–${p.maxVersion || 'any'}${p.inUse === undefined ? ', use not reported' : p.inUse ? ', in use' : ', unused'})`;
      // A plugin whose use this firmware does not report is taken as in use.
      const blocking = outside.filter((p) => p.inUse !== false);
      return check(
        'plugins-compatible',
        blocking.length > 0 ? 'fail' : 'warn',
        `not for ${targetVersion}: ${outside.map(describe).join('; ')}`,
      );
    }),
    withRead('plugin-integrity', facts.plugins, (plugins) => {
      if (plugins.length === 0) return check('plugin-integrity', 'pass', 'no plugins');
      const unread = plugins.filter((p) => !p.integrity.ok);
      const failed = plugins.flatMap((p) =>
        p.integrity.ok
          ? Object.entries(p.integrity.value)
              .filter(([, verdict]) => !INTEGRITY_OK.has(verdict))
              .map(([op, verdict]) => `${p.name} ${op} ${verdict}`)
          : [],
      );
      if (failed.length > 0) return check('plugin-integrity', 'fail', `plugin integrity: ${failed.join(', ')}`);
      if (unread.length > 0)
        return check(
          'plugin-integrity',
          'unknown',
          unread.map((p) => `${p.name}: ${(p.integrity as { reason: string }).reason}`).join('; '),
        );
      return check('plugin-integrity', 'pass', `${plugins.length} plugin(s) intact`);
    }),
    withRead('integrated-products', facts.integratedProducts, ({ activated, warnings }) => {
      const snapshot = activated.length > 0 ? `activated: ${list(activated)}` : 'none activated';
      return warnings.length > 0
        ? check('integrated-products', 'warn', `${snapshot}; ${warnings.join(' ')}`)
        : check('integrated-products', 'pass', snapshot);
    }),
    ((): Check => {
      const iface = facts.clusterInterface.ok ? facts.clusterInterface.value : undefined;
      const member = facts.roles.length > 0 || iface === true;
      if (!member) {
        return facts.clusterInterface.ok
          ? check('cluster-membership', 'pass', 'standalone (no cluster role, cluster interface off)')
          : check(
              'cluster-membership',
              'unknown',
              `no cluster role; cluster interface: ${facts.clusterInterface.reason}`,
            );
      }
      const what = `a cluster member (${facts.roles.length > 0 ? `roles ${list(facts.roles)}` : 'cluster interface on'})`;
      return options.allowClusterMember
        ? check(
            'cluster-membership',
            'warn',
            `${what}: upgraded alone as options.allowClusterMember allows; all nodes must end on one version`,
          )
        : check(
            'cluster-membership',
            'fail',
            `${what}: every node of a cluster must run the same version; upgrade the cluster in the vendor's order (or set options.allowClusterMember)`,
          );
    })(),
    withRead('empty-slot', facts.slots, (slots) => {
      const holding = targetVersion ? slots.find((s) => !s.empty && sameVersion(s.version, targetVersion)) : undefined;
      if (holding) return check('empty-slot', 'pass', `slot ${holding.id} already holds ${targetVersion}`);
      const empty = slots.filter((s) => s.empty);
      if (empty.length > 0) return check('empty-slot', 'pass', `${empty.length} empty slot(s)`);
      return options.freeOldestSlot
        ? check('empty-slot', 'warn', 'no empty slot: the upgrade frees the oldest one (options.freeOldestSlot)')
        : check('empty-slot', 'fail', 'no empty slot for the download (delete one, or set options.freeOldestSlot)');
    }),
  ];
}

/** `fail` if any check failed; `warn` if any warned or could not be checked; else `pass`. */
export function overallVerdict(checks: readonly Check[]): Verdict {
  if (checks.some((c) => c.verdict === 'fail')) return 'fail';
  if (checks.some((c) => c.verdict === 'warn' || c.verdict === 'unknown')) return 'warn';
  return 'pass';
}
