import { SingleBar } from 'cli-progress';
import type { OperationName } from '../../lambdas/operations/catalog';
import type { HistoryEvent } from '../engine/engine';
import {
  LOOP_OF,
  took,
  fit,
  transferText,
  watchText,
  fetchStartedAt,
  REBOOT_READINGS,
  BUNDLE_STATES,
  NEWS,
  type Output,
  type ProgressStream,
  type Loop,
  type Status,
  type Point,
  type Transfer,
  type Watch,
} from './status-lines';

export type { ProgressStream } from './status-lines';

/**
 * Renders an execution's events on stderr: each state once as it is entered, what the run changed
 * on the appliance, and a status line for every polling loop (the firmware download, the bundle
 * being generated, the reboot watch) and for the archive's download, updated at every poll. On a
 * terminal the status line is redrawn in place (its elapsed time ticks between polls); anywhere
 * else each update is a line. The end says how long the execution took. Download rates and ETAs
 * come from the workflow's own observations, so they are right under the simulator's clock too.
 */
export class ProgressReporter {
  private readonly seen = new Set<string>();
  private readonly now: () => number;
  private startedAt: number;
  private status: Status | undefined;
  private bar: SingleBar | undefined;
  /** Not a terminal: the key of the status's last line, and whether an update since was not written. */
  private written: { key: string; behind: boolean } | undefined;
  /** The loops' own memory: when each began, what a fetch last showed, how many polls. */
  private fetch: { since: number; polls: number; first?: Point; last?: Point } | undefined;
  private bundle: { since: number; polls: number } | undefined;
  private reboot: { since: number } | undefined;
  private archive: { since: number } | undefined;

  constructor(
    private readonly out: ProgressStream = process.stderr,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  onEvent = (event: HistoryEvent): void => {
    const { state, operation } = event;
    if (event.type === 'ExecutionStarted') this.startedAt = event.timestamp;
    if (event.type === 'StateEntered' && state) {
      // Another operation ends the status line (Wait states run as local Tasks without one).
      if (operation && this.status && LOOP_OF[operation] !== this.status.loop) this.endStatus();
      if (operation === 'archive-support-bundle') this.archive = { since: event.timestamp };
      // Each state once: polling loops show their status line instead of repeating their states.
      if (!state.name.startsWith('Wait') && !this.seen.has(state.name)) {
        this.seen.add(state.name);
        this.line(`→ ${state.name}`);
      }
    }
    if (event.type === 'StateExited' && operation && state?.output && typeof state.output === 'object') {
      const said = NEWS[operation]?.(state.output as Output);
      if (said) this.line(`  ${said}`);
      this.polled(operation, state.output as Output, event.timestamp);
    }
    if (event.type === 'StateRetried' && state) this.line(`  retrying ${state.name}`);
    if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed' || event.type === 'ExecutionAborted') {
      this.endStatus();
      const total = took((event.timestamp - this.startedAt) / 1000);
      // After a stop (aborted) the interrupt guard reports.
      if (event.type === 'ExecutionSucceeded') this.line(`✓ succeeded in ${total}`);
      if (event.type === 'ExecutionFailed') this.line(`failed after ${total}`);
    }
  };

  /** Progress reported by a handler while it runs (the archive's download, the only one that does), in real time. */
  onTransfer = (report: { done: number; total?: number }): void => {
    const at = this.now();
    const archive = (this.archive ??= { since: at });
    const transfer: Transfer = {
      loop: 'archive',
      total: report.total,
      now: { done: report.done, at },
      // No recent rate: reports a few MiB apart are bursty, the average since the start is not.
      from: { done: 0, at: archive.since, start: true },
      finished: report.total !== undefined && report.done >= report.total,
    };
    // Reports come every few MiB: a plain line every tenth (every 128 MiB when the size is unknown).
    const tenth = report.total ? Math.floor((report.done / report.total) * 10) : Math.floor(report.done / 2 ** 27);
    this.show({
      loop: 'archive',
      final: transfer.finished,
      text: (width) => transferText(transfer, width),
      lineKey: String(tenth),
    });
  };

  /** A polling state's output, shown on its loop's status line. */
  private polled(operation: OperationName, o: Output, at: number): void {
    switch (operation) {
      case 'start-firmware-fetch':
        if (o.fetch?.key) {
          this.fetch = { since: at, polls: 0 };
          this.watch('fetch', at, ['started', 'started'], 0, { firstPollIn: o.fetch.progress?.nextPollSeconds });
        }
        return;
      case 'get-firmware-fetch-status':
        if (o.fetch?.progress) this.fetchPolled(o, at);
        return;
      case 'create-support-bundle':
        this.bundle = { since: at, polls: 0 };
        this.watch('bundle', at, ['requested', 'requested'], 0);
        return;
      case 'get-support-bundle-status': {
        const status = o.bundle?.progress?.status;
        if (!status) return;
        const bundle = (this.bundle ??= { since: at, polls: 0 });
        bundle.polls++;
        if (status === 'finished') {
          const time = took((at - bundle.since) / 1000);
          return this.done('bundle', [`  support bundle: generated in ${time} (${bundle.polls} polls)`]);
        }
        this.watch('bundle', bundle.since, BUNDLE_STATES[status] ?? [status, status], bundle.polls);
        return;
      }
      case 'upgrade-firmware':
        this.reboot = { since: at };
        return;
      case 'get-info': {
        const w = o.upgrade?.watch;
        if (!w?.polls) return;
        const reboot = (this.reboot ??= { since: at });
        const seen = `${w.downPolls} down, ${w.noVersionPolls} without a version`;
        if (w.upgraded) {
          const time = took((at - reboot.since) / 1000);
          return this.done('reboot', [
            `  reboot watch: back, running ${w.firmwareVersion} after ${time} (${w.polls} polls: ${seen})`,
            `  reboot watch: back, running ${w.firmwareVersion} after ${time}`,
            `  reboot: running ${w.firmwareVersion} after ${time}`,
          ]);
        }
        const running = `running ${w.firmwareVersion}`;
        const reading = REBOOT_READINGS[w.reading] ?? [`answers, ${running}`, running];
        this.watch('reboot', reboot.since, reading, w.polls, { detail: seen });
        return;
      }
    }
  }

  /** `$.fetch.progress`: bytes and the time the workflow observed them. */
  private fetchPolled(o: Output, at: number): void {
    const p = o.fetch.progress as Output;
    const fetch = (this.fetch ??= { since: at, polls: 0 });
    fetch.polls++;
    if (typeof p.bytesTotal !== 'number' || p.bytesTotal <= 0 || typeof p.observedAt !== 'number') {
      // Queued, or no size yet: the appliance's own words.
      const said = [p.status, p.info].filter(Boolean).join(', ');
      return this.watch('fetch', fetch.since, [said, String(p.status)], fetch.polls);
    }
    const now = { done: Number(p.bytesDownloaded), at: p.observedAt };
    const started = fetchStartedAt(o);
    const transfer: Transfer = {
      loop: 'fetch',
      total: p.bytesTotal,
      now,
      previous: fetch.last,
      from: started !== undefined ? { done: 0, at: started, start: true } : { ...(fetch.first ?? now), start: false },
      finished: p.status === 'finished',
      info: p.info,
    };
    fetch.first ??= now;
    fetch.last = now;
    this.show({ loop: 'fetch', final: transfer.finished, text: (width) => transferText(transfer, width) });
  }

  /** A loop without bytes to count: its state and how long it has been going. */
  private watch(
    loop: Loop,
    since: number,
    [state, brief]: [string, string],
    polls: number,
    more: Pick<Watch, 'firstPollIn' | 'detail'> = {},
  ): void {
    const watch: Watch = { loop, state, brief, since, polls, ...more };
    this.show({ loop, final: false, text: (width, now) => watchText(watch, width, now) });
  }

  /** A loop's last line. */
  private done(loop: Loop, candidates: string[]): void {
    this.show({ loop, final: true, text: (width) => fit(width, candidates) });
  }

  private show(status: Status): void {
    if (this.status && this.status.loop !== status.loop) this.endStatus();
    this.status = status;
    if (status.final) return this.endStatus();
    if (this.out.isTTY) {
      if (!this.bar) this.startBar();
      this.bar!.render();
      return;
    }
    const text = status.text(Infinity, this.now());
    const key = status.lineKey ?? text;
    if (key === this.written?.key) {
      this.written.behind = true;
      return;
    }
    this.written = { key, behind: false };
    this.out.write(`${text}\n`);
  }

  /** The status line's loop is over: its last text stays as a line. */
  private endStatus(): void {
    const status = this.status;
    if (!status) return;
    this.status = undefined;
    const tty = this.out.isTTY === true;
    this.stopBar();
    if (tty || status.final || this.written?.behind) {
      this.out.write(`${status.text(tty ? (this.out.columns || 80) - 1 : Infinity, this.now())}\n`);
    }
    this.written = undefined;
  }

  private startBar(): void {
    // cli-progress keeps the line at the bottom, redraws it twice a second (the elapsed time
    // ticks between polls) and restores the cursor; the text, fitted to the width, is ours.
    this.bar = new SingleBar({
      format: (_options, params) => this.status?.text(params.maxWidth - 1, this.now()) ?? '',
      stream: this.out as NodeJS.WriteStream,
      hideCursor: true,
      clearOnComplete: true,
      fps: 2,
    });
    this.bar.start(1, 0);
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** A line that stays, written above the status line. */
  private line(text: string): void {
    const redraw = this.bar !== undefined;
    this.stopBar();
    this.out.write(`${text}\n`);
    if (redraw && this.status) this.startBar();
  }
}
