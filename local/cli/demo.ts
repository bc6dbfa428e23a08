import { join } from 'node:path';
import { LocalSecretStore } from '../engine/adapters';
import { causeMessage } from '../engine/engine';
import { fleetReportFooter, storedBundleFooter, type StoredBundle } from '../run/footer';
import { archiveStorage, execute, fleetReportOf, LOCAL_S3_DIR, type Output } from '../run/run';
import { clusterAppliances, startSimulator } from '../simulator';
import { simulatedCredentials } from '../simulator/credentials';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const FIRMWARE = {
  url: 'https://downloads.example.internal/sps-8.0.1.iso',
  sha256: 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80',
  expectedVersion: '8.0.1',
};

/**
 * `npm start`: a simulated appliance over HTTPS, the embedded S3 server, and both workflows run
 * by the local engine with the real handlers; then a fleet upgrade of it, two more appliances and
 * a 4-node cluster. Simulated time jumps ahead at every Wait (with a
 * short real pause so the progress can be followed): a 20-minute download takes seconds.
 */
export async function demoCommand(io: { stdout: Output; stderr: Output }): Promise<number> {
  const started = Date.now();
  const sim = await startSimulator({
    appliances: [
      { name: 'sps-demo-1', bundleBytes: 64 * 1024 * 1024 },
      // The fleet: two more standalone appliances and a 4-node Central Management cluster.
      { name: 'sps-demo-2' },
      { name: 'sps-demo-3' },
      ...clusterAppliances('demo-east', 4),
    ],
  });
  const storage = await archiveStorage(undefined, io.stderr);
  try {
    const appliance = sim.appliances[0]!;
    // The registry: one credentials secret per appliance.
    const secrets = new LocalSecretStore(
      Object.fromEntries(sim.appliances.map((a) => [`sps/${a.name}`, simulatedCredentials(sim, a)])),
    );
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
      // The simulator is in this process and its reboots take no real time: a retry need not wait long.
      client: { retry: { baseDelayMs: 10, maxDelayMs: 100 } },
    };
    io.stderr.write(
      `\nSimulated appliance ${appliance.name} at ${appliance.endpoint} (CA ${sim.caFile}), and a fleet\n\n1/3 firmware upgrade\n`,
    );
    const upgrade = await execute({
      ...common,
      workflow: 'firmware-upgrade',
      input: { appliance: ref, firmware: FIRMWARE },
      logFile: join('.sps-workflows', 'logs', 'demo-firmware-upgrade.jsonl'),
    });
    if (upgrade.status !== 'SUCCEEDED') {
      io.stderr.write(`✗ ${upgrade.error}: ${causeMessage(upgrade.cause)}\n`);
      return 1;
    }
    io.stdout.write(`${JSON.stringify(upgrade.output)}\n`);
    io.stderr.write(`\n2/3 support bundle archival\n`);
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
        ``,
        `3/3 fleet upgrade of every registered appliance: ${sim.appliances.map((a) => a.name).join(', ')}`,
        `  (${ref} already runs 8.0.1 and is skipped; the cluster goes one node at a time in the vendor's order)`,
        ``,
      ].join('\n'),
    );
    const fleet = await execute({
      ...common,
      // Seven appliances' waits, several at once: shorter real pauses keep the demo brisk.
      wait: async (seconds: number) => {
        sim.clock.advance(seconds * 1000);
        await sleep(Math.min(10, seconds));
      },
      workflow: 'fleet-upgrade',
      input: { firmware: FIRMWARE, rollout: { canary: 1, maxConcurrency: 2 } },
      logFile: join('.sps-workflows', 'logs', 'demo-fleet-upgrade.jsonl'),
    });
    const report = fleetReportOf(fleet);
    if (report) io.stderr.write(`\n${fleetReportFooter(report, { embeddedDir: LOCAL_S3_DIR }).join('\n')}\n`);
    if (fleet.status !== 'SUCCEEDED') {
      io.stderr.write(`✗ ${fleet.error}: ${causeMessage(fleet.cause)}\n`);
      return 1;
    }
    io.stdout.write(`${JSON.stringify((fleet.output as { summary: unknown }).summary)}\n`);
    io.stderr.write(`\nDemo finished in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`);
    return 0;
  } finally {
    await storage.close();
    await sim.close();
  }
}
