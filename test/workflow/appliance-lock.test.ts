import { causeMessage, type RunResult } from '../../local/engine/engine';
import { bundleInput, expectNoSecrets, firmwareInput, startHarness, type Harness } from '../helpers/workflow';

/*
 * One workflow at a time per appliance, with the real ASL, handlers and simulator: the second
 * execution waits for the appliance (its retries take no time locally), then fails with Sps.Busy
 * having asked the appliance nothing; every end gives the appliance up.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const retriesOf = (result: RunResult, state: string) =>
  result.events.filter((e) => e.type === 'StateRetried' && e.state?.name === state).length;

describe('appliance lock', () => {
  it('turns away a second workflow while one runs, then lets the next one in', async () => {
    h = await startHarness([{ name: 'sps-sim-1' }], { s3: true });
    const harness = h;
    let second: RunResult | undefined;
    let requestsDuringSecond = -1;
    // The second execution starts while the upgrade waits for its download.
    const upgrade = await harness.run('firmware-upgrade', firmwareInput(harness), async () => {
      if (second) return;
      const before = harness.sim.journal.entries().length;
      second = await harness.run('support-bundle', bundleInput(harness));
      requestsDuringSecond = harness.sim.journal.entries().length - before;
    });
    expect(upgrade.status).toBe('SUCCEEDED');
    expect({ status: second?.status, error: second?.error }).toEqual({ status: 'FAILED', error: 'Sps.Busy' });
    expect(causeMessage(second!.cause)).toMatch(/^sps-sim-1 is busy: execution arn:aws:states:.+firmware-upgrade/);
    expect(retriesOf(second!, 'Take the appliance')).toBe(30);
    expect(requestsDuringSecond).toBe(0);
    expectNoSecrets(harness, second!);

    const next = await harness.run('support-bundle', bundleInput(harness));
    expect(next.status).toBe('SUCCEEDED');
    expect(retriesOf(next, 'Take the appliance')).toBe(0);
  });

  it('gives the appliance up when the execution fails', async () => {
    h = await startHarness([{ name: 'sps-sim-1', bundleBytes: 1024 }], { s3: true });
    const failed = await h.run('support-bundle', bundleInput(h, { archive: { bucket: 'no-such-bucket' } }));
    expect(failed.error).toBe('S3.ArchiveRejected');
    const entered = failed.events.filter((e) => e.type === 'StateEntered').map((e) => e.state!.name);
    expect(entered.slice(-3)).toEqual(['Release the appliance after failure', 'Publish failure', 'Failed']);
    const next = await h.run('support-bundle', bundleInput(h));
    expect(next.status).toBe('SUCCEEDED');
    expect(retriesOf(next, 'Take the appliance')).toBe(0);
  });
});
