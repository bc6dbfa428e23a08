import { nameOf, type ApplianceValue } from '../../lambdas/shared/fleet-upgrade';
import type { OperationName } from '../../lambdas/operations/catalog';

/* The text of progress lines: status lines for each loop and what a state's output tells a person. */

export type Output = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Where progress goes: a terminal gets a status line redrawn in place, anything else plain lines. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** What a status line follows: a polling loop, or the archive's download. */
export type Loop = 'fetch' | 'bundle' | 'reboot' | 'archive';

/** Each status line's label, and the shorter one a narrow terminal gets. */
export const LABELS: Record<Loop, [label: string, short: string]> = {
  fetch: ['firmware download', 'firmware'],
  bundle: ['support bundle', 'bundle'],
  reboot: ['reboot watch', 'reboot'],
  archive: ['support bundle download', 'bundle'],
};

/** The operations each status line follows; any other operation ends the line. */
export const LOOP_OF: Partial<Record<OperationName, Loop>> = {
  'start-firmware-fetch': 'fetch',
  'get-firmware-fetch-status': 'fetch',
  'create-support-bundle': 'bundle',
  'get-support-bundle-status': 'bundle',
  'get-info': 'reboot',
  'archive-support-bundle': 'archive',
};

/** A status line: its text for a width (Infinity: a plain line) at a time (ms). */
export interface Status {
  loop: Loop;
  /** The loop is over: this line stays as it is. */
  final: boolean;
  text(width: number, now: number): string;
  /** A plain line is written when this changes (default: the text). */
  lineKey?: string;
}

/** Bytes done at a time (ms, of the clock that observed them). */
export interface Point {
  done: number;
  at: number;
}

export interface Transfer {
  loop: Loop;
  /** Unknown: the line shows what is done. */
  total?: number;
  now: Point;
  previous?: Point;
  /** Where the average rate counts from: the start when known (`start`), else the first observation. */
  from: Point & { start: boolean };
  finished: boolean;
  /** What the appliance says about a complete download not yet finished ("Verifying checksum"). */
  info?: string | null;
}

/** A loop with nothing to count: a bundle being generated, the reboot watch. */
export interface Watch {
  loop: Loop;
  state: string;
  /** The state where the width is short. */
  brief: string;
  since: number;
  /** Polls so far; before the first, the line says when it comes. */
  polls: number;
  firstPollIn?: number;
  detail?: string;
}

export const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

/** A length of time for a person: 45s, 4m05s, 1h02m. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** How long something took: tenths of a second under a minute. */
export const took = (seconds: number) => (seconds < 60 ? `${Math.max(0, seconds).toFixed(1)}s` : duration(seconds));

/** The first candidate that fits `width` columns, else the last one cut to fit. */
export function fit(width: number, candidates: string[]): string {
  const fits = candidates.find((c) => c.length <= width);
  if (fits !== undefined) return fits;
  const last = candidates.at(-1)!;
  return width >= 1 ? `${last.slice(0, width - 1)}…` : '';
}

export const bytesPerSecond = (a: Point, b: Point) =>
  b.at > a.at ? (b.done - a.done) / ((b.at - a.at) / 1000) : undefined;

/**
 * `firmware download [███░░] 52% 758.7/1451.1 MiB 1.3 MiB/s ETA 9m12s`. A narrow terminal loses the
 * bar first, then the long label, never the numbers; once complete, the size, the average rate and
 * the time it took (or what the appliance is still doing).
 */
export function transferText(t: Transfer, width: number): string {
  const { total, now } = t;
  const [label, short] = LABELS[t.loop];
  const complete = total !== undefined && now.done >= total;
  const recent = t.previous && bytesPerSecond(t.previous, now);
  const average = bytesPerSecond(t.from, now);
  const rate = complete ? (average ?? recent) : (recent ?? average);
  const tail = complete
    ? t.finished
      ? t.from.start && `in ${took((now.at - t.from.at) / 1000)}`
      : t.info?.toLowerCase()
    : total !== undefined && rate
      ? `ETA ${duration((total - now.done) / rate)}`
      : undefined;
  const numbers = [
    total !== undefined && `${Math.floor((Math.min(now.done, total) / total) * 100)}%`,
    total === undefined || complete ? `${mib(now.done)} MiB` : `${mib(now.done)}/${mib(total)} MiB`,
    rate !== undefined && `${mib(rate)} MiB/s`,
    tail,
  ]
    .filter(Boolean)
    .join(' ');
  const candidates = [`  ${label}: ${numbers}`, `  ${short}: ${numbers}`, numbers];
  const room = width - (label.length + numbers.length + 6);
  if (total !== undefined && Number.isFinite(width) && room >= 10) {
    const size = Math.min(30, room);
    const filled = Math.round((Math.min(now.done, total) / total) * size);
    candidates.unshift(`  ${label} [${'█'.repeat(filled)}${'░'.repeat(size - filled)}] ${numbers}`);
  }
  return fit(width, candidates);
}

/** `support bundle: generating · 1m20s · poll 3`, shorter where the width is short. */
export function watchText(w: Watch, width: number, now: number): string {
  const [label, short] = LABELS[w.loop];
  if (w.polls === 0) {
    const next = w.firstPollIn !== undefined ? `, first poll in ${duration(w.firstPollIn)}` : '';
    return fit(width, [`  ${label}: ${w.state}${next}`, `  ${short}: ${w.brief}${next}`]);
  }
  const elapsed = duration(Math.max(0, now - w.since) / 1000);
  return fit(width, [
    `  ${label}: ${w.state} · ${elapsed} · poll ${w.polls}${w.detail ? ` (${w.detail})` : ''}`,
    `  ${label}: ${w.brief} · ${elapsed} · poll ${w.polls}`,
    `  ${short}: ${w.brief} · ${elapsed} · poll ${w.polls}`,
  ]);
}

/** When a fetch this run started began, in the workflow's clock: Start fetch sets its deadline `fetchMinutes` later. */
export function fetchStartedAt({ fetch, options }: Output): number | undefined {
  const minutes = options?.timeouts?.fetchMinutes;
  if (!fetch || fetch.reused || typeof fetch.deadline !== 'number' || typeof minutes !== 'number') return undefined;
  return fetch.deadline - minutes * 60_000;
}

export const REBOOT_READINGS: Record<string, [state: string, brief: string]> = {
  down: ['down or booting (no answer)', 'down'],
  'no-version': ['answers, but gives no version yet', 'no version yet'],
};

export const BUNDLE_STATES: Record<string, [state: string, brief: string]> = {
  queued: ['queued behind another bundle', 'queued'],
  'in-progress': ['generating', 'generating'],
};

/**
 * What a state's output tells a person once: every change made on the appliance (a slot freed, a
 * fetch started or followed, a duplicate slot removed, the upgrade requested).
 */
export const NEWS: Partial<Record<OperationName, (o: Output) => string | undefined>> = {
  'start-firmware-fetch': ({ fetch: f }: Output) => {
    if (!f) return undefined;
    if (f.key === null) return `the firmware is already in slot ${f.progress?.slotId}: nothing to fetch`;
    if (f.reused)
      return `following fetch ${f.key}, already running on the appliance (not ours: left alone if this run fails)`;
    const freed = f.freedSlot ? `freed slot ${f.freedSlot.slotId} (${f.freedSlot.version}), then ` : '';
    return `changed: ${freed}started fetch ${f.key}`;
  },
  'test-firmware': ({ test }: Output) =>
    test?.alreadyRunning
      ? `changed: removed slot ${test.removedSlotId}, a copy of the version already running (nothing to upgrade)`
      : undefined,
  // The verdict, and every check that did not pass (the full report is in the output).
  'run-preflight': ({ preflight }: Output) => {
    const report = preflight?.report;
    if (!report) return undefined;
    const notPassed = (report.checks as Array<{ id: string; verdict: string; summary: string }>)
      .filter((c) => c.verdict !== 'pass')
      .map((c) => `\n    ${c.verdict} ${c.id}: ${c.summary}`)
      .join('');
    return `preflight: ${report.verdict} (${report.checks.length} checks)${notPassed}`;
  },
  // A fleet upgrade's plan, then each step of its rollout: the live view of which wave, and why it waits.
  'plan-fleet-upgrade': ({ plan }: Output) => {
    if (!plan) return undefined;
    const targets = (plan.waves as Output[]).reduce((n, w) => n + (w.appliances as unknown[]).length, 0);
    const clusters = (plan.clusters as Output[]).map(
      (c) => `\n    cluster ${c.name}: ${(c.order as string[]).join(' → ')}`,
    );
    return `plan: ${plan.appliances.length} appliance(s), ${targets} to upgrade in ${plan.waves.length} wave(s)${clusters.join('')}`;
  },
  'advance-rollout': ({ progress: p, plan }: Output) => {
    if (!p) return undefined;
    const named = (list: ApplianceValue[]) => list.map(nameOf).join(', ');
    const mixed = p.mixed
      ? `cluster ${p.mixed.cluster} stopped at ${p.mixed.failed}: upgraded ${p.mixed.upgraded.join(', ') || 'none'}, pending ${p.mixed.pending.join(', ') || 'none'}\n  `
      : '';
    switch (p.action) {
      case 'upgrade': {
        const { index, kind, cluster, appliances } = p.wave;
        const what = kind === 'cluster' ? `cluster ${cluster}, one node at a time` : kind;
        return `${mixed}wave ${index + 1}/${plan.waves.length} (${what}): ${named(appliances)}`;
      }
      case 'wait':
        return `${mixed}waiting for the maintenance window (${plan.window.days.join(', ')} ${plan.window.start}–${plan.window.end} ${plan.window.timeZone}): wave ${p.next + 1} starts at ${p.waitingUntil}`;
      case 'approve':
        return `${mixed}waiting for approval: answer here, or run sps-workflows approve|reject <execution>`;
      default:
        return p.stop ? `${mixed}rollout stopped: ${p.stop.error}` : mixed ? mixed.trimEnd() : undefined;
    }
  },
  'upgrade-firmware': ({ upgrade }: Output) =>
    upgrade?.answer === 'unknown'
      ? `changed: upgrade into slot ${upgrade.slotId} requested; its answer was lost, the reboot watch decides`
      : upgrade
        ? `changed: upgrade into slot ${upgrade.slotId} requested`
        : undefined,
};
