/*
 * Fleet rollout rules (README, "Fleet upgrade"), pure: the vendor's order inside a cluster, the
 * waves of a rollout, and the maintenance window. The fleet-upgrade workflow asks; these decide.
 */

export const ROLES = ['central-management', 'search-master', 'search-minion', 'search-local', 'managed-host'] as const;

export interface Member {
  name: string;
  roles: readonly string[];
}

/**
 * Where a node comes in the vendor's order: search minions, then the other managed hosts, then the
 * Central Management node unless it is also the Search Master, then the Search Master last.
 */
function rank({ roles }: Member): number {
  if (roles.includes('search-master')) return 3;
  if (roles.includes('central-management')) return 2;
  if (roles.includes('search-minion')) return 0;
  return 1;
}

/** A cluster's nodes in the order the vendor prescribes (stable within a rank: as given). */
export function clusterOrder<T extends Member>(nodes: readonly T[]): T[] {
  return nodes
    .map((node, i) => ({ node, i }))
    .sort((a, b) => rank(a.node) - rank(b.node) || a.i - b.i)
    .map(({ node }) => node);
}

export interface Wave {
  /** `canary`, `standalone`, or the cluster's name. */
  kind: 'canary' | 'standalone' | 'cluster';
  cluster?: string;
  /** Standalone: upgraded at once (up to maxConcurrency). A cluster: one node at a time, in this order. */
  appliances: string[];
}

export interface RolloutTarget {
  name: string;
  cluster?: string;
  roles: readonly string[];
}

/**
 * The rollout's waves: `canary` standalone appliances first, then the other standalone appliances,
 * `maxConcurrency` at a time, then each cluster (one wave: its nodes one at a time, in
 * the vendor's order). A cluster is never a canary: its nodes go together, in order, once the
 * canaries passed.
 */
export function planWaves(targets: readonly RolloutTarget[], canary: number, maxConcurrency: number): Wave[] {
  const standalone = targets.filter((t) => !t.cluster).map((t) => t.name);
  const clusters = new Map<string, RolloutTarget[]>();
  for (const t of targets) if (t.cluster) clusters.set(t.cluster, [...(clusters.get(t.cluster) ?? []), t]);
  const waves: Wave[] = [];
  const batches = (names: string[], kind: 'canary' | 'standalone') => {
    for (let i = 0; i < names.length; i += maxConcurrency) {
      waves.push({ kind, appliances: names.slice(i, i + maxConcurrency) });
    }
  };
  batches(standalone.slice(0, canary), 'canary');
  batches(standalone.slice(canary), 'standalone');
  for (const [cluster, nodes] of clusters) {
    waves.push({ kind: 'cluster', cluster, appliances: clusterOrder(nodes).map((n) => n.name) });
  }
  return waves;
}

export const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  /** The days a window starts on (one that crosses midnight ends the next day). */
  days: readonly Weekday[];
  /** `HH:MM`, local time in `timeZone`. */
  start: string;
  end: string;
  timeZone: string;
}

const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
};

const FORMATS = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minute of the day of `at` in `timeZone`. */
function localTime(at: Date, timeZone: string): { day: number; minute: number } {
  // Built once per zone: `nextChange` asks about every minute of a week.
  let format = FORMATS.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    FORMATS.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return {
    day: WEEKDAYS.indexOf(parts.weekday as Weekday),
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** Whether the window is open at `at`. A window whose end is not after its start crosses midnight. */
export function windowOpen(window: MaintenanceWindow, at: Date): boolean {
  const { day, minute } = localTime(at, window.timeZone);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  const startsOn = (d: number) => window.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (start < end) return startsOn(day) && minute >= start && minute < end;
  // Across midnight: the evening of a window day, or the early morning after one.
  return (startsOn(day) && minute >= start) || (startsOn(day - 1) && minute < end);
}

/** A week and a day of minutes: every window opens within it. */
const SEARCH_MINUTES = 8 * 24 * 60;

/**
 * The next time the window opens (or closes) after `at`, to the minute; `at` itself when it
 * already is (open, or closed). Undefined for a window with no day.
 */
export function nextChange(window: MaintenanceWindow, at: Date, to: 'open' | 'closed'): Date | undefined {
  const wanted = to === 'open';
  const first = new Date(Math.floor(at.getTime() / 60_000) * 60_000);
  if (windowOpen(window, at) === wanted) return at;
  for (let i = 1; i <= SEARCH_MINUTES; i++) {
    const candidate = new Date(first.getTime() + i * 60_000);
    if (windowOpen(window, candidate) === wanted) return candidate;
  }
  return undefined;
}
