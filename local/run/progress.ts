import { SingleBar } from 'cli-progress';
import type { OperationName } from '../../lambdas/operations/catalog';
import type { HistoryEvent } from '../engine/engine';

/** Progress of a long download, read from a polling state's output. */
interface Transfer {
  label: string;
  done: number;
  total: number;
  observedAt: number;
}

/** Where each polling operation's state keeps its progress. */
const TRANSFERS: Partial<Record<OperationName, (output: Record<string, unknown>) => Transfer | undefined>> = {
  'get-firmware-fetch-status': (o) => {
    const p = (o.fetch as { progress?: Record<string, number | string> } | undefined)?.progress;
    if (!p || typeof p.bytesTotal !== 'number' || p.bytesTotal <= 0) return undefined;
    return {
      label: 'firmware download',
      done: Number(p.bytesDownloaded),
      total: p.bytesTotal,
      observedAt: Number(p.observedAt),
    };
  },
};

type Output = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * What a state's output tells a person: every change made on the appliance (a slot freed, a fetch
 * started or followed, a duplicate slot removed, the upgrade requested) and what the reboot watch saw.
 */
const NEWS: Partial<Record<OperationName, (o: Output) => string | undefined>> = {
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
  'upgrade-firmware': ({ upgrade }: Output) =>
    upgrade?.answer === 'unknown'
      ? `changed: upgrade into slot ${upgrade.slotId} requested; its answer was lost, the reboot watch decides`
      : upgrade
        ? `changed: upgrade into slot ${upgrade.slotId} requested`
        : undefined,
  'get-info': ({ upgrade }: Output) => {
    const w = upgrade?.watch;
    if (!w) return undefined;
    const now =
      w.reading === 'down'
        ? 'down or booting (no answer)'
        : w.reading === 'no-version'
          ? 'answers, but gives no version yet'
          : `answers, running ${w.firmwareVersion}`;
    return `appliance ${now} (poll ${w.polls}: ${w.downPolls} down, ${w.noVersionPolls} without a version)`;
  },
};

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}

/**
 * Renders an execution's events on stderr: each state once as it is entered, and downloads as a
 * progress bar (a terminal) or as plain lines (a pipe, CI). Times come from the workflow's own
 * observations, so the ETA is right under the simulator's accelerated clock too.
 */
export class ProgressReporter {
  private readonly seen = new Set<string>();
  private bar: SingleBar | undefined;
  private previous: Transfer | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean } = process.stderr,
  ) {}

  onEvent = (event: HistoryEvent): void => {
    const state = event.state;
    // Each state once: polling loops show their progress instead of repeating their states.
    if (event.type === 'StateEntered' && state && !state.name.startsWith('Wait') && !this.seen.has(state.name)) {
      this.seen.add(state.name);
      this.line(`→ ${state.name}`);
    }
    const transfer = event.operation && TRANSFERS[event.operation];
    if (event.type === 'StateExited' && transfer && state?.output && typeof state.output === 'object') {
      const t = transfer(state.output as Record<string, unknown>);
      if (t) this.transfer(t);
    }
    if (event.type === 'StateExited' && state && state.output && typeof state.output === 'object') {
      const said = event.operation && NEWS[event.operation]?.(state.output as Record<string, unknown>);
      if (said) this.line(`  ${said}`);
    }
    if (event.type === 'StateRetried' && state) this.line(`  retrying ${state.name}`);
    if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed' || event.type === 'ExecutionAborted')
      this.stopBar();
  };

  /** Progress reported by a handler while it runs (the support-bundle download). */
  onTransfer = (report: { label: string; done: number; total?: number }): void => {
    this.transfer({
      label: report.label,
      done: report.done,
      total: report.total ?? report.done,
      observedAt: Date.now(),
    });
  };

  private transfer(t: Transfer): void {
    const prev = this.previous?.label === t.label ? this.previous : undefined;
    const rate =
      prev && t.observedAt > prev.observedAt ? (t.done - prev.done) / ((t.observedAt - prev.observedAt) / 1000) : 0;
    const eta = rate > 0 ? duration((t.total - t.done) / rate) : '?';
    const rateText = rate > 0 ? `${mib(rate)} MiB/s` : '…';
    this.previous = t;
    const percent = Math.floor((t.done / t.total) * 100);
    if (this.out.isTTY) {
      if (!this.bar) {
        this.bar = new SingleBar({
          format: `  ${t.label} [{bar}] {percentage}% | {doneMiB}/{totalMiB} MiB | {rateText} | ETA {etaText}`,
          stream: this.out as NodeJS.WriteStream,
          hideCursor: true,
        });
        this.bar.start(t.total, 0, { doneMiB: '0', totalMiB: mib(t.total), etaText: '?', rateText: '…' });
      }
      this.bar.update(t.done, { doneMiB: mib(t.done), totalMiB: mib(t.total), etaText: eta, rateText });
      if (t.done >= t.total) this.stopBar();
    } else {
      this.line(`  ${t.label}: ${percent}% (${mib(t.done)}/${mib(t.total)} MiB, ${rateText}), ETA ${eta}`);
    }
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  private line(text: string): void {
    this.stopBar();
    this.out.write(`${text}\n`);
  }
}
