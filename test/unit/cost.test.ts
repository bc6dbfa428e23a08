import { BILLED_FLOOR_SECONDS, costUsd, meter, PRICES } from '../../bench/cost';
import type { HistoryEvent } from '../../local/engine/engine';

/* The bench's AWS cost model (`upgrade.cost_usd` and the others): what it counts from a run's events. */

const at = (timestamp: number, type: string, name: string, operation?: string): HistoryEvent =>
  ({ type, timestamp, state: { name, type: 'Task' }, ...(operation && { operation }) }) as HistoryEvent;

describe('cost meter', () => {
  it('bills every state entered or retried, and each Lambda attempt at its memory, at least the floor', () => {
    const m = meter();
    // A 256 MB function that took 3 s; a 512 MB one retried once within 0.5 s; a Choice state.
    for (const e of [
      at(0, 'StateEntered', 'Authenticate', 'authenticate'),
      at(3000, 'StateExited', 'Authenticate', 'authenticate'),
      at(3000, 'StateEntered', 'Archive', 'archive-support-bundle'),
      at(3200, 'StateRetried', 'Archive', 'archive-support-bundle'),
      at(3500, 'StateExited', 'Archive', 'archive-support-bundle'),
      at(3500, 'StateEntered', 'Remove bundle?'),
      at(3500, 'StateExited', 'Remove bundle?'),
    ])
      m.onEvent(e);
    const usage = m.usage();
    expect(usage).toMatchObject({ transitions: 4, lambdaRequests: 3 });
    expect(usage.gbSeconds).toBeCloseTo(0.25 * 3 + 0.5 * 2 * BILLED_FLOOR_SECONDS);
  });

  it("counts every child execution's events apart (the same state names run in several at once)", () => {
    const m = meter();
    const a = m.onChild().onEvent!;
    const b = m.onChild().onEvent!;
    a(at(0, 'StateEntered', 'Authenticate', 'authenticate'));
    b(at(0, 'StateEntered', 'Authenticate', 'authenticate'));
    b(at(2000, 'StateExited', 'Authenticate', 'authenticate'));
    a(at(4000, 'StateFailed', 'Authenticate', 'authenticate'));
    expect(m.usage()).toMatchObject({ transitions: 2, lambdaRequests: 2 });
    expect(m.usage().gbSeconds).toBeCloseTo(0.25 * 2 + 0.25 * 4);
  });

  it('counts secret calls through the store it wraps, and prices each kind of use', async () => {
    const m = meter();
    const store = m.countSecrets({
      get: async () => 'x',
      put: async () => undefined,
      list: async () => [],
    });
    await store.get('a');
    await store.put('a', 'b');
    expect(m.usage().secretsCalls).toBe(2);
    expect(
      costUsd({
        transitions: 1000,
        lambdaRequests: 1e6,
        gbSeconds: 1,
        s3Writes: 1000,
        s3Reads: 1000,
        secretsCalls: 1e4,
      }),
    ).toBeCloseTo(0.025 + 0.2 + PRICES.lambdaGbSecond + 0.005 + 0.0004 + 0.05, 8);
  });
});
