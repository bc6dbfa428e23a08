import type { Polling } from './input';

/** One observation of a download's progress, carried from one poll to the next in workflow state. */
export interface Progress {
  bytesDone: number;
  bytesTotal: number;
  observedAt: number;
}

const clamp = (value: number, polling: Polling) =>
  Math.round(Math.min(polling.maxSeconds, Math.max(polling.minSeconds, value)));

/**
 * The wait before the next status poll, from observed progress: the rate between two polls gives
 * the time left; far from the end wait half of it (progress is uneven), close to the end wait
 * until just after the predicted end. Without a rate yet (queued, first poll) wait the minimum.
 */
export function nextPollSeconds(polling: Polling, now: Progress, previous?: Progress): number {
  if (!previous || now.bytesTotal <= 0 || now.observedAt <= previous.observedAt) return polling.minSeconds;
  const rate = (now.bytesDone - previous.bytesDone) / ((now.observedAt - previous.observedAt) / 1000);
  if (rate <= 0) return clamp(polling.minSeconds * 2, polling);
  const secondsLeft = (now.bytesTotal - now.bytesDone) / rate;
  return clamp(secondsLeft > 4 * polling.minSeconds ? secondsLeft / 2 : secondsLeft + 2, polling);
}

/** For work that reports no progress: waits double from the minimum, up to `capSeconds`. */
export function nextBackoffSeconds(
  polling: Polling,
  previousWait: number | undefined,
  capSeconds = polling.maxSeconds,
): number {
  return clamp(previousWait ? previousWait * 2 : polling.minSeconds, {
    ...polling,
    maxSeconds: Math.max(polling.minSeconds, Math.min(polling.maxSeconds, capSeconds)),
  });
}
