import { join } from 'node:path';
import { LocalSecretStore } from '../engine/adapters';
import { causeMessage } from '../engine/engine';
import { storedBundleFooter, type StoredBundle } from '../run/footer';
import { archiveStorage, execute, LOCAL_S3_DIR, type Output } from '../run/run';
import { startSimulator } from '../simulator';
import { simulatedCredentials } from '../simulator/credentials';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `npm start`: a simulated appliance over HTTPS, the embedded S3 server, and both workflows run
 * by the local engine with the real handlers. Simulated time jumps ahead at every Wait (with a
 * short real pause so the progress can be followed): a 20-minute download takes seconds.
 */
export async function demoCommand(io: { stdout: Output; stderr: Output }): Promise<number> {
  const started = Date.now();
  const sim = await startSimulator({ appliances: [{ name: 'sps-demo-1', bundleBytes: 64 * 1024 * 1024 }] });
  const storage = await archiveStorage(undefined, io.stderr);
  try {
    const appliance = sim.appliances[0]!;
    const secrets = new LocalSecretStore({
      'sps/sps-demo-1': simulatedCredentials(sim, appliance),
    });
    // Named alone: its credentials secret (sps/sps-demo-1) is its registry entry and names its endpoint.
    const ref = appliance.name;
    const common = {
      secrets,
      clock: sim.clock,
      wait: async (seconds: number) => {
        sim.clock.advance(seconds * 1000);
        await sleep(Math.min(250, seconds * 2));
      },
      stderr: io.stderr,
      archive: storage.archive,
    };
    io.stderr.write(
      `\nSimulated appliance ${appliance.name} at ${appliance.endpoint} (CA ${sim.caFile})\n\n1/2 firmware upgrade\n`,
    );
    const upgrade = await execute({
      ...common,
      workflow: 'firmware-upgrade',
      input: {
        appliance: ref,
        firmware: {
          url: 'https://downloads.example.internal/sps-8.0.1.iso',
          sha256: 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80',
          expectedVersion: '8.0.1',
        },
      },
      logFile: join('.sps-workflows', 'logs', 'demo-firmware-upgrade.jsonl'),
    });
    if (upgrade.status !== 'SUCCEEDED') {
      io.stderr.write(`✗ ${upgrade.error}: ${causeMessage(upgrade.cause)}\n`);
      return 1;
    }
    io.stdout.write(`${JSON.stringify(upgrade.output)}\n`);
    io.stderr.write(`\n2/2 support bundle archival\n`);
    const bundle = await execute({
      ...common,
      workflow: 'support-bundle',
      input: { appliance: ref },
      logFile: join('.sps-workflows', 'logs', 'demo-support-bundle.jsonl'),
    });
    if (bundle.status !== 'SUCCEEDED') {
      io.stderr.write(`✗ ${bundle.error}: ${causeMessage(bundle.cause)}\n`);
      return 1;
    }
    io.stdout.write(`${JSON.stringify(bundle.output)}\n`);
    io.stderr.write(
      [
        ``,
        ...storedBundleFooter(bundle.output as StoredBundle, { embeddedDir: LOCAL_S3_DIR }),
        `To archive into another S3-compatible server: npx --no-install sps-workflows run support-bundle --input FILE --s3-endpoint URL`,
        `Demo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
        ``,
      ].join('\n'),
    );
    return 0;
  } finally {
    await storage.close();
    await sim.close();
  }
}
