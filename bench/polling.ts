import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Figure } from './figures';
import { costLine, costUsd, meter } from './cost';
import { runWorkflow } from '../local/engine/engine';
import { firmwareInput, startHarness } from '../test/helpers/workflow';

const DOWNLOAD_SECONDS = 25 * 60;
const FIRMWARE_BYTES = 1_521_614_848;

/** One simulated upgrade with a 25-minute (uneven) download; polling as given. */
async function upgrade(polling?: { minSeconds: number; maxSeconds: number }) {
  const h = await startHarness([
    { name: 'sps-bench-1', firmwareBytes: FIRMWARE_BYTES, fetchBytesPerSecond: FIRMWARE_BYTES / DOWNLOAD_SECONDS },
  ]);
  try {
    // The run removes its fetch's record once done: note when the download ends while it runs.
    let job: { finishesAt: number } | undefined;
    const m = meter();
    const result = await runWorkflow({
      workflow: 'firmware-upgrade',
      input: firmwareInput(h, polling ? { options: { polling } } : {}),
      ...m.watch(h),
      wait: async (seconds) => {
        h.sim.clock.advance(seconds * 1000);
        job ??= h.sim.appliance('sps-bench-1').state().fetchJobs[0];
      },
    });
    if (result.status !== 'SUCCEEDED' || !job) throw new Error(`upgrade failed: ${result.error} ${result.cause}`);
    const polls = h.sim.journal
      .entries()
      .filter((e) => e.method === 'GET' && /^\/api\/firmware\/fetch\/.+/.test(e.path));
    const detectedAt = Date.parse(polls.at(-1)!.at);
    return {
      polls: polls.length,
      lagSeconds: (detectedAt - job.finishesAt) / 1000,
      // Step Functions bills state transitions: every state entered is one.
      transitions: result.events.filter((e) => e.type === 'StateEntered').length,
      usage: m.usage(),
    };
  } finally {
    await h.close();
  }
}

/** Polling efficiency in simulated time, against a fixed 30-second poller over the same download. */
export async function pollingFigures(log: (line: string) => void): Promise<Figure[]> {
  const adaptive = await upgrade();
  const fixed = await upgrade({ minSeconds: 30, maxSeconds: 30 });
  log(
    `polling: adaptive ${adaptive.polls} polls, lag ${adaptive.lagSeconds.toFixed(0)} s, ${adaptive.transitions} transitions; fixed 30 s: ${fixed.polls} polls, ${fixed.transitions} transitions`,
  );
  log(costLine('upgrade cost', adaptive.usage));
  return [
    {
      name: 'upgrade.cost_usd',
      value: Math.round(costUsd(adaptive.usage) * 1e5) / 1e5,
      unit: 'USD',
      bar: '<= 0.005',
    },
    { name: 'polling.polls_25min', value: adaptive.polls, unit: 'polls', bar: '<= 12' },
    { name: 'polling.detect_lag_s', value: Math.round(adaptive.lagSeconds), unit: 's', bar: '<= 30' },
    { name: 'polling.transitions_per_upgrade', value: adaptive.transitions, unit: 'count', bar: '<= 80' },
    { name: 'polling.baseline_transitions', value: fixed.transitions, unit: 'count', bar: 'fixed 30 s poller' },
  ];
}

/** Wall time of `npm start`'s demo, in a fresh process as a user runs it. */
export async function demoFigures(log: (line: string) => void): Promise<Figure[]> {
  const started = performance.now();
  execFileSync(process.execPath, [join(__dirname, '..', 'local', 'cli', 'bin.js'), 'demo'], {
    stdio: 'ignore',
    cwd: join(__dirname, '..'),
  });
  const seconds = (performance.now() - started) / 1000;
  log(`demo: ${seconds.toFixed(1)} s`);
  return [{ name: 'demo.wall_s', value: Math.round(seconds * 10) / 10, unit: 's', bar: '<= 30' }];
}
