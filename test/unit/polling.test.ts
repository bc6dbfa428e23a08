import { nextBackoffSeconds, nextPollSeconds } from '../../lambdas/shared/polling';

const polling = { minSeconds: 10, maxSeconds: 300 };
const at = (bytesDone: number, seconds: number, bytesTotal = 1_000_000) => ({
  bytesDone,
  bytesTotal,
  observedAt: seconds * 1000,
});

describe('nextPollSeconds', () => {
  it('waits the minimum without a rate', () => {
    expect(nextPollSeconds(polling, at(0, 0))).toBe(10);
    expect(nextPollSeconds(polling, at(0, 10, 0), at(0, 0, 0))).toBe(10);
  });

  it('waits half the time left when far from the end, bounded by maxSeconds', () => {
    // 1,000 B/s, 800 s left → 400 s → capped at 300
    expect(nextPollSeconds(polling, at(200_000, 200), at(0, 0))).toBe(300);
    // 1,000 B/s, 200 s left → 100 s
    expect(nextPollSeconds(polling, at(800_000, 800), at(0, 0))).toBe(100);
  });

  it('waits until just after the predicted end when close', () => {
    // 1,000 B/s, 30 s left → 32 s
    expect(nextPollSeconds(polling, at(970_000, 970), at(0, 0))).toBe(32);
    expect(nextPollSeconds(polling, at(999_999, 999.999), at(0, 0))).toBe(10);
  });

  it('backs off when progress stalls', () => {
    expect(nextPollSeconds(polling, at(500, 20), at(500, 10))).toBe(20);
  });
});

describe('nextBackoffSeconds', () => {
  it('doubles from the minimum up to a minute', () => {
    const waits: number[] = [];
    let w: number | undefined;
    for (let i = 0; i < 6; i++) waits.push((w = nextBackoffSeconds(polling, w, 60)));
    expect(waits).toEqual([10, 20, 40, 60, 60, 60]);
  });
});

describe('nextBackoffSeconds without a cap', () => {
  it('stops at maxSeconds', () => {
    expect(nextBackoffSeconds(polling, 200)).toBe(300);
  });
});
