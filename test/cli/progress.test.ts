import type { OperationName } from '../../lambdas/operations/catalog';
import type { HistoryEvent } from '../../local/engine/engine';
import { ProgressReporter } from '../../local/run/progress';

/*
 * The progress a person reads on stderr, fed events recorded from runs against the simulator
 * (the polls' numbers and states as they came; times as a real-time `run` sees them). No network.
 */

/** An escape sequence (CSI, or save/restore the cursor) or one character. */
// eslint-disable-next-line no-control-regex -- escape sequences are what a terminal reads
const SEQUENCES = /\x1b(?:\[([?\d;]*)([A-Za-z])|([78]))|([\s\S])/g;

/** A terminal as a person sees it: the lines on screen, with the escape sequences cli-progress writes applied. */
class FakeTerminal {
  readonly isTTY = true;
  readonly lines: string[] = [''];
  private row = 0;
  private col = 0;
  private saved = { row: 0, col: 0 };

  constructor(readonly columns: number) {}

  write(text: string): boolean {
    for (const [, args, command, saveRestore, char] of text.matchAll(SEQUENCES)) {
      if (char === '\n') {
        this.row++;
        this.col = 0;
        this.lines[this.row] ??= '';
      } else if (char === '\r') {
        this.col = 0;
      } else if (char !== undefined) {
        const line = this.lines[this.row]!.padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + char + line.slice(this.col + 1);
        this.col++;
      } else if (saveRestore === '7') {
        this.saved = { row: this.row, col: this.col };
      } else if (saveRestore === '8') {
        ({ row: this.row, col: this.col } = this.saved);
      } else if (command === 'G') {
        this.col = Number(args || 1) - 1;
      } else if (command === 'K') {
        this.lines[this.row] = args === '2' ? '' : this.lines[this.row]!.slice(0, this.col);
      }
    }
    return true;
  }

  /** The line the cursor is on: the status line while one is shown. */
  get current(): string {
    return this.lines[this.row]!;
  }

  get screen(): string[] {
    const lines = [...this.lines];
    while (lines.at(-1) === '') lines.pop();
    return lines;
  }
}

class Pipe {
  readonly isTTY = false;
  text = '';
  write(text: string): boolean {
    this.text += text;
    return true;
  }
  get lines(): string[] {
    return this.text.split('\n').slice(0, -1);
  }
}

const T0 = Date.UTC(2026, 10, 23, 9, 0, 0);
const FETCH_MINUTES = 120;
const FETCH_KEY = 'b3c41843-7589-408e-96e4-df59e92c1da3';
const ISO_BYTES = 1_521_614_848;

/** The fetch's polls in a recorded upgrade: bytes, seconds since the fetch started, status, info. */
const FETCH_POLLS: [number, number, string, string | null][] = [
  [5220271, 10.075, 'in-progress', 'Downloading'],
  [11874002, 20.082, 'in-progress', 'Downloading'],
  [450456726, 320.089, 'in-progress', 'Downloading'],
  [823773946, 620.097, 'in-progress', 'Downloading'],
  [1129194672, 900.1, 'in-progress', 'Downloading'],
  [1441671453, 1080.106, 'in-progress', 'Downloading'],
  [1467652628, 1103.108, 'in-progress', 'Downloading'],
  [1489525561, 1127.115, 'in-progress', 'Downloading'],
  [1516123805, 1164.121, 'in-progress', 'Downloading'],
  [ISO_BYTES, 1174.124, 'in-progress', 'Verifying checksum'],
  [ISO_BYTES, 1184.131, 'finished', null],
];
/** The reboot watch's readings in the same run: reading, version, the wait before the next poll. */
const REBOOT_POLLS: [string, string | null, number][] = [
  ['running', '7.5.1', 10],
  ['down', null, 20],
  ['down', null, 40],
  ['down', null, 60],
  ['down', null, 60],
  ['down', null, 60],
  ['down', null, 60],
  ['running', '8.0.1', 60],
];
/** A recorded support bundle's statuses and the wait after each. */
const BUNDLE_POLLS: [string, number][] = [
  ['in-progress', 10],
  ['in-progress', 20],
  ['in-progress', 40],
  ['in-progress', 80],
  ['finished', 0],
];

/** Events as the engine emits them (Wait states as Tasks without an operation), with the times of a real-time run. */
class Recording {
  readonly events: HistoryEvent[] = [];
  at = T0;

  constructor() {
    this.events.push({ type: 'ExecutionStarted', timestamp: this.at });
  }

  state(name: string, type: string, opts: { operation?: OperationName; output?: object; seconds?: number } = {}) {
    this.at += (opts.seconds ?? 0.05) * 1000;
    const operation = opts.operation;
    this.events.push({ type: 'StateEntered', timestamp: this.at, state: { name, type }, operation });
    this.at += 50;
    this.events.push({
      type: 'StateExited',
      timestamp: this.at,
      state: { name, type, output: opts.output ?? {} },
      operation,
    });
    return this;
  }

  end(type = 'ExecutionSucceeded') {
    this.events.push({ type, timestamp: (this.at += 10) });
    return this;
  }
}

/** A firmware upgrade: the fetch polled as `polls` say (seconds since the fetch started), then the reboot watch. */
function upgrade(polls = FETCH_POLLS): Recording {
  const r = new Recording()
    .state('Validate input', 'Task', { operation: 'validate-input' })
    .state('Take the appliance', 'Task', { operation: 'acquire-appliance-lock' })
    .state('Authenticate', 'Task', { operation: 'authenticate' })
    .state('Already current?', 'Choice');
  const fetchStart = r.at + 100;
  const fetch = { key: FETCH_KEY, reused: false, freedSlot: null, deadline: fetchStart + FETCH_MINUTES * 60_000 };
  const options = { timeouts: { fetchMinutes: FETCH_MINUTES, rebootMinutes: 45 } };
  r.state('Start fetch', 'Task', {
    operation: 'start-firmware-fetch',
    output: { fetch: { ...fetch, progress: { status: 'started', nextPollSeconds: 10 } }, options },
  });
  for (const [bytes, seconds, status, info] of polls) {
    r.state('Fetch finished?', 'Choice').state('Wait for fetch', 'Task');
    const observedAt = fetchStart + seconds * 1000;
    r.at = observedAt - 50;
    const progress = { key: FETCH_KEY, status, info, bytesDownloaded: bytes, bytesTotal: ISO_BYTES, observedAt };
    r.state('Fetch status', 'Task', {
      operation: 'get-firmware-fetch-status',
      output: { fetch: { ...fetch, progress }, options },
      seconds: 0,
    });
  }
  r.state('Fetch finished?', 'Choice')
    .state('Precheck', 'Task', { operation: 'test-firmware', output: { test: { slotId: '2' } }, seconds: 20 })
    .state('Upgrade now?', 'Choice')
    .state('Upgrade', 'Task', {
      operation: 'upgrade-firmware',
      output: { upgrade: { slotId: '2', answer: 'accepted' } },
    });
  let wait = 0;
  REBOOT_POLLS.forEach(([reading, firmwareVersion, next], i) => {
    if (i > 0) r.state('Back on the new version?', 'Choice').state('Wait for reboot', 'Task', { seconds: wait });
    const downPolls = REBOOT_POLLS.slice(0, i + 1).filter(([x]) => x === 'down').length;
    const watch = {
      polls: i + 1,
      downPolls,
      noVersionPolls: 0,
      reading,
      firmwareVersion,
      upgraded: firmwareVersion === '8.0.1',
      nextPollSeconds: next,
    };
    r.state('Reboot status', 'Task', {
      operation: 'get-info',
      output: { upgrade: { slotId: '2', watch } },
      seconds: 1,
    });
    wait = next;
  });
  return r
    .state('Back on the new version?', 'Choice')
    .state('Upgraded', 'Pass')
    .state('Release the appliance', 'Task', { operation: 'release-appliance-lock' })
    .state('Succeeded', 'Succeed')
    .end();
}

/** Feeds the events; `each` sees the output after every one. */
function play(
  out: FakeTerminal | Pipe,
  events: HistoryEvent[],
  each?: (event: HistoryEvent) => void,
  between?: (r: ProgressReporter, event: HistoryEvent) => void,
) {
  let now = events[0]!.timestamp;
  const reporter = new ProgressReporter(out, { now: () => now });
  for (const event of events) {
    now = event.timestamp;
    between?.(reporter, event);
    reporter.onEvent(event);
    each?.(event);
  }
  return reporter;
}

const isFetchPoll = (e: HistoryEvent) => e.type === 'StateExited' && e.operation === 'get-firmware-fetch-status';

describe('Class: ProgressReporter', () => {
  describe('on a pipe', () => {
    it('when the download is polled, it writes one line per poll with percent, MiB, rate and ETA', () => {
      // Prepare
      const pipe = new Pipe();
      // Act
      play(pipe, upgrade().events);
      // Assess
      const download = pipe.lines.filter((l) => l.startsWith('  firmware download'));
      expect(download[0]).toBe('  firmware download: started, first poll in 10s');
      expect(download).toHaveLength(1 + FETCH_POLLS.length);
      expect(download[1]).toBe('  firmware download: 0% 5.0/1451.1 MiB 0.5 MiB/s ETA 48m47s');
      expect(download[4]).toBe('  firmware download: 54% 785.6/1451.1 MiB 1.2 MiB/s ETA 9m21s');
      for (const line of download.slice(1, -2)) expect(line).toMatch(/\d+% [\d.]+\/1451\.1 MiB [\d.]+ MiB\/s ETA \w+$/);
    });

    it('when the download is complete, it shows the size and the rate, not … or ETA ?', () => {
      const pipe = new Pipe();
      play(pipe, upgrade().events);
      const download = pipe.lines.filter((l) => l.startsWith('  firmware download'));
      expect(download.slice(-2)).toEqual([
        '  firmware download: 100% 1451.1 MiB 1.2 MiB/s verifying checksum',
        '  firmware download: 100% 1451.1 MiB 1.2 MiB/s in 19m44s',
      ]);
      expect(pipe.text).not.toMatch(/…|ETA \?/);
    });

    it('when only two polls see the download (a fast clock), the first has an ETA and the last the rate', () => {
      // At --time-scale 60: 52 % at the first poll, finished at the second.
      const pipe = new Pipe();
      play(
        pipe,
        upgrade([
          [Math.round(ISO_BYTES * 0.52), 600, 'in-progress', 'Downloading'],
          [ISO_BYTES, 1150, 'finished', null],
        ]).events,
      );
      const download = pipe.lines.filter((l) => l.startsWith('  firmware download'));
      expect(download.slice(1)).toEqual([
        '  firmware download: 52% 754.6/1451.1 MiB 1.3 MiB/s ETA 9m14s',
        '  firmware download: 100% 1451.1 MiB 1.3 MiB/s in 19m10s',
      ]);
    });

    it('when the appliance reboots, it writes the watch at every poll and how long the reboot took', () => {
      const pipe = new Pipe();
      play(pipe, upgrade().events);
      const watch = pipe.lines.filter((l) => l.startsWith('  reboot watch'));
      expect(watch).toHaveLength(REBOOT_POLLS.length);
      expect(watch[0]).toBe('  reboot watch: answers, running 7.5.1 · 1s · poll 1 (0 down, 0 without a version)');
      expect(watch[2]).toBe('  reboot watch: down or booting (no answer) · 33s · poll 3 (2 down, 0 without a version)');
      expect(watch.at(-1)).toBe(
        '  reboot watch: back, running 8.0.1 after 5m19s (8 polls: 6 down, 0 without a version)',
      );
    });

    it('when the preflight answers, it prints the verdict and every check that did not pass', () => {
      const pipe = new Pipe();
      const checks = [
        { id: 'firmware-api', verdict: 'pass', summary: 'fetch, slots, test and upgrade are offered' },
        { id: 'backup-encryption', verdict: 'warn', summary: 'system backups are not encrypted' },
      ];
      play(
        pipe,
        new Recording()
          .state('Preflight', 'Task', {
            operation: 'run-preflight',
            output: { preflight: { report: { verdict: 'warn', checks } } },
          })
          .end().events,
      );
      expect(pipe.lines.slice(0, 3)).toEqual([
        '→ Preflight',
        '  preflight: warn (2 checks)',
        '    warn backup-encryption: system backups are not encrypted',
      ]);
    });

    it('when the execution ends, it prints the total time', () => {
      const pipe = new Pipe();
      play(pipe, upgrade().events);
      expect(pipe.lines.at(-1)).toBe('✓ succeeded in 25m25s');
    });

    it('when the execution fails, it prints how long it ran, and nothing after a stop', () => {
      const failed = new Pipe();
      play(failed, new Recording().state('Validate input', 'Task', { seconds: 2 }).end('ExecutionFailed').events);
      expect(failed.lines.at(-1)).toBe('failed after 2.1s');
      const stopped = new Pipe();
      play(stopped, new Recording().state('Validate input', 'Task').end('ExecutionAborted').events);
      expect(stopped.lines.at(-1)).toBe('→ Validate input');
    });

    it('when a support bundle is generated, it shows its status and the time so far at every poll', () => {
      // Prepare
      const r = new Recording()
        .state('Authenticate', 'Task', { operation: 'authenticate' })
        .state('Create bundle', 'Task', { operation: 'create-support-bundle', output: { bundle: { key: 'k1' } } });
      let wait = 0;
      for (const [status, next] of BUNDLE_POLLS) {
        if (wait) r.state('Bundle ready?', 'Choice').state('Wait for bundle', 'Task', { seconds: wait });
        r.state('Bundle status', 'Task', {
          operation: 'get-support-bundle-status',
          output: { bundle: { key: 'k1', progress: { key: 'k1', status, nextPollSeconds: next } } },
        });
        wait = next;
      }
      r.state('Archive', 'Task', { operation: 'archive-support-bundle', seconds: 0 });
      const pipe = new Pipe();
      // Act
      play(pipe, r.end().events);
      // Assess
      expect(pipe.lines.filter((l) => l.startsWith('  support bundle'))).toEqual([
        '  support bundle: requested',
        '  support bundle: generating · 0s · poll 1',
        '  support bundle: generating · 10s · poll 2',
        '  support bundle: generating · 31s · poll 3',
        '  support bundle: generating · 1m11s · poll 4',
        '  support bundle: generated in 2m31s (5 polls)',
      ]);
    });

    it('when the archive reports its download, it writes a line a tenth and the size and rate at the end', () => {
      const r = new Recording();
      r.state('Archive', 'Task', { operation: 'archive-support-bundle' });
      const archiveEntered = r.events.at(-2)!;
      const pipe = new Pipe();
      let now = T0;
      const reporter = new ProgressReporter(pipe, { now: () => now });
      reporter.onEvent(r.events[0]!);
      reporter.onEvent(archiveEntered);
      const total = 64 * 1024 * 1024;
      for (let done = 8 * 1024 * 1024; done <= total; done += 8 * 1024 * 1024) {
        now = archiveEntered.timestamp + (done / total) * 4000;
        reporter.onTransfer({ done, total });
      }
      reporter.onEvent({ type: 'ExecutionSucceeded', timestamp: now });
      expect(pipe.lines.filter((l) => l.includes('support bundle download'))).toEqual([
        '  support bundle download: 12% 8.0/64.0 MiB 16.0 MiB/s ETA 4s',
        '  support bundle download: 25% 16.0/64.0 MiB 16.0 MiB/s ETA 3s',
        '  support bundle download: 37% 24.0/64.0 MiB 16.0 MiB/s ETA 3s',
        '  support bundle download: 50% 32.0/64.0 MiB 16.0 MiB/s ETA 2s',
        '  support bundle download: 62% 40.0/64.0 MiB 16.0 MiB/s ETA 2s',
        '  support bundle download: 75% 48.0/64.0 MiB 16.0 MiB/s ETA 1s',
        '  support bundle download: 87% 56.0/64.0 MiB 16.0 MiB/s ETA 1s',
        '  support bundle download: 100% 64.0 MiB 16.0 MiB/s in 4.0s',
      ]);
    });

    it('when the whole bundle arrives in one report, it still shows the size and the rate', () => {
      const r = new Recording();
      r.state('Archive', 'Task', { operation: 'archive-support-bundle' });
      const pipe = new Pipe();
      let now = T0;
      const reporter = new ProgressReporter(pipe, { now: () => now });
      reporter.onEvent(r.events.at(-2)!);
      now = r.events.at(-2)!.timestamp + 500;
      reporter.onTransfer({ done: 8 * 1024 * 1024, total: 8 * 1024 * 1024 });
      expect(pipe.lines.at(-1)).toBe('  support bundle download: 100% 8.0 MiB 16.0 MiB/s in 0.5s');
    });
  });

  describe('on a terminal', () => {
    it('when it is 60 columns wide, every poll redraws the status line and keeps the numbers', () => {
      // Prepare
      const tty = new FakeTerminal(60);
      const shown: string[] = [];
      // Act
      play(tty, upgrade().events, (e) => {
        if (isFetchPoll(e)) shown.push(tty.current);
      });
      // Assess
      expect(shown).toHaveLength(FETCH_POLLS.length);
      expect(shown[0]).toBe('  firmware download: 0% 5.0/1451.1 MiB 0.5 MiB/s ETA 48m47s');
      for (const line of shown.slice(0, -2)) expect(line).toMatch(/\d+% [\d.]+\/1451\.1 MiB [\d.]+ MiB\/s ETA \w+$/);
      expect(shown.at(-2)).toBe('  firmware: 100% 1451.1 MiB 1.2 MiB/s verifying checksum');
      // The status line never wraps (other lines may: they are written once).
      for (const line of shown) expect(line.length).toBeLessThan(60);
    });

    it('when the loop ends, its last line stays above the next states, and the end says how long it took', () => {
      const tty = new FakeTerminal(60);
      play(tty, upgrade().events);
      const screen = tty.screen;
      const at = screen.indexOf('→ Precheck');
      expect(screen.slice(at - 1, at + 1)).toEqual([
        '  firmware download: 100% 1451.1 MiB 1.2 MiB/s in 19m44s',
        '→ Precheck',
      ]);
      expect(screen).toContain('  reboot watch: back, running 8.0.1 after 5m19s');
      expect(screen.at(-1)).toBe('✓ succeeded in 25m25s');
      // One line per state and per change: the polls redrew the status line in place.
      expect(screen.filter((l) => l.includes('MiB'))).toHaveLength(1);
      expect(screen.filter((l) => l.includes('reboot'))).toHaveLength(1);
    });

    it('when it is wide, the download has a bar beside the numbers', () => {
      const tty = new FakeTerminal(100);
      const shown: string[] = [];
      play(tty, upgrade().events, (e) => {
        if (isFetchPoll(e)) shown.push(tty.current);
      });
      expect(shown[3]).toMatch(/^ {2}firmware download \[█+░+\] 54% 785\.6\/1451\.1 MiB 1\.2 MiB\/s ETA 9m21s$/);
      for (const line of shown) expect(line.length).toBeLessThan(100);
    });

    it('when it waits between polls, the elapsed time on the status line ticks', () => {
      // Prepare
      jest.useFakeTimers({ now: T0 });
      try {
        const tty = new FakeTerminal(80);
        const r = new Recording()
          .state('Create bundle', 'Task', { operation: 'create-support-bundle', output: { bundle: { key: 'k1' } } })
          .state('Bundle status', 'Task', {
            operation: 'get-support-bundle-status',
            output: { bundle: { key: 'k1', progress: { key: 'k1', status: 'queued', nextPollSeconds: 60 } } },
          });
        let now = r.at;
        const reporter = new ProgressReporter(tty, { now: () => now });
        for (const e of r.events) reporter.onEvent(e);
        expect(tty.current).toBe('  support bundle: queued behind another bundle · 0s · poll 1');
        // Act
        now += 42_000;
        jest.advanceTimersByTime(1000);
        // Assess
        expect(tty.current).toBe('  support bundle: queued behind another bundle · 42s · poll 1');
        reporter.onEvent({ type: 'ExecutionAborted', timestamp: now });
      } finally {
        jest.useRealTimers();
      }
    });
  });
});
