import { LocalSecretStore, recordingLogger } from '../../local/engine/adapters';
import { getInfo } from '../../lambdas/operations/firmware';
import type { Deps } from '../../lambdas/shared/operation';
import { startSimulator, type Simulator } from '../../local/simulator';

/* The reboot watch's verdicts, against a simulated appliance that is up and runs `firmwareVersion`. */

let sim: Simulator;
afterEach(() => sim.close());

async function watch(running: string, previous: { wentDown: boolean }) {
  sim = await startSimulator({ protocol: 'http', appliances: [{ name: 'a', firmwareVersion: running }] });
  const a = sim.appliances[0]!;
  const deps: Deps = {
    secrets: new LocalSecretStore({ 'sps/a': { username: a.username, password: a.password } }),
    clock: sim.clock,
    sessionSecretPrefix: 's/',
    logger: (keys) => recordingLogger(() => {}, keys),
  };
  return getInfo.run(
    {
      appliance: { name: 'a', endpoint: a.endpoint, credentialsSecretId: 'sps/a' },
      expectedVersion: '8.0.1',
      previousVersion: '7.5.1',
      deadline: sim.clock.now() + 3_600_000,
      polling: { minSeconds: 10, maxSeconds: 300 },
      previous,
    },
    deps,
  );
}

describe('reboot watch', () => {
  it('keeps watching when a blip before the reboot was taken for the appliance going down', async () => {
    await expect(watch('7.5.1', { wentDown: true })).resolves.toMatchObject({
      reachable: true,
      firmwareVersion: '7.5.1',
      upgraded: false,
      wentDown: true,
    });
  });

  it('proves the upgrade once the appliance runs the new version', async () => {
    await expect(watch('8.0.1', { wentDown: true })).resolves.toMatchObject({ upgraded: true });
  });

  it('fails with Sps.VersionMismatch when the appliance came back on a third version', async () => {
    await expect(watch('6.0.0', { wentDown: true })).rejects.toMatchObject({
      name: 'Sps.VersionMismatch',
      message: 'a came back from the reboot running 6.0.0, expected 8.0.1',
    });
  });
});
