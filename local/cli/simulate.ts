import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  clusterAppliances,
  SCENARIOS,
  startSimulator,
  type ApplianceOptions,
  type ScenarioName,
  type Simulator,
} from '../simulator';
import type { Output } from '../run/run';
import { simulatedCredentials } from '../simulator/credentials';

/** A bad `simulate` option found once the options are read: the CLI exits 2. */
export class SimulateUsageError extends Error {}

export interface SimulateOptions {
  port?: number;
  scenario: ScenarioName;
  http?: boolean;
  timeScale: number;
  appliances: number;
  /** Standalone appliances (instead of `appliances`). */
  fleet?: number;
  /** The size of the cluster served besides them. */
  cluster?: number;
  /** Per-appliance scenarios, `<name>=<scenario>`, over `scenario`. */
  nodeScenario?: string[];
}

/** The cluster `--cluster M` serves. */
export const SIMULATED_CLUSTER = 'sps-sim-cluster';

/** The secrets file `run --secrets` reads: credentials secret id → credentials. */
export function writeSecretsFile(sim: Simulator): string {
  const file = join(sim.dir, 'secrets.json');
  const secrets = Object.fromEntries(sim.appliances.map((a) => [`sps/${a.name}`, simulatedCredentials(sim, a)]));
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** What the simulator installs: it takes the version from the URL (any x.y.z in it) and accepts any sha256. */
const DEMO_FIRMWARE = {
  url: 'https://downloads.example.internal/sps-8.0.1.iso',
  sha256: 'e6837af0b5dcb5397c6bc8b52c0fb95aa49a3fea4303e274c7501f0857cb9b80',
  expectedVersion: '8.0.1',
};

/** Ready inputs for the first appliance (and the fleet), beside the secrets file: `run` works without editing anything. */
function writeInputFiles(sim: Simulator): { upgrade: string; bundle: string; fleet: string } {
  const appliance = sim.appliances[0]!.name;
  const upgrade = join(sim.dir, 'upgrade.json');
  const bundle = join(sim.dir, 'bundle.json');
  // Polls every 5 to 60 s, so a run against an accelerated clock shows its progress often.
  const polling = { minSeconds: 5, maxSeconds: 60 };
  const upgradeInput = {
    appliance,
    firmware: DEMO_FIRMWARE,
    options: { polling, timeouts: { fetchMinutes: 60, rebootMinutes: 45 } },
  };
  writeFileSync(upgrade, `${JSON.stringify(upgradeInput, null, 2)}\n`);
  writeFileSync(bundle, `${JSON.stringify({ appliance, options: { polling } }, null, 2)}\n`);
  // Every simulated appliance (the registry), the canary then the rest; a person approves after the canary.
  const fleet = join(sim.dir, 'fleet-upgrade.json');
  const fleetInput = {
    firmware: DEMO_FIRMWARE,
    rollout: { canary: 1, maxConcurrency: 2, approval: 'after-canary' },
    options: upgradeInput.options,
  };
  writeFileSync(fleet, `${JSON.stringify(fleetInput, null, 2)}\n`);
  return { upgrade, bundle, fleet };
}

/** `sps-workflows simulate`: serves until SIGINT, SIGTERM or SIGHUP (the terminal closed). */
export async function simulateCommand(opts: SimulateOptions, stdout: Output): Promise<number> {
  if (!SCENARIOS.includes(opts.scenario)) throw new Error(`unknown scenario ${opts.scenario}`);
  const specs: ApplianceOptions[] = [
    ...Array.from({ length: opts.fleet ?? opts.appliances }, (_, i) => ({
      name: `sps-sim-${i + 1}`,
      scenario: opts.scenario,
    })),
    ...(opts.cluster ? clusterAppliances(SIMULATED_CLUSTER, opts.cluster, { scenario: opts.scenario }) : []),
  ];
  for (const pair of opts.nodeScenario ?? []) {
    const [name, scenario] = pair.split('=');
    const spec = specs.find((s) => s.name === name);
    if (!spec)
      throw new SimulateUsageError(
        `--node-scenario ${pair}: no appliance ${name} (${specs.map((s) => s.name).join(', ')})`,
      );
    if (!SCENARIOS.includes(scenario as ScenarioName)) {
      throw new SimulateUsageError(`--node-scenario ${pair}: unknown scenario (one of: ${SCENARIOS.join(', ')})`);
    }
    spec.scenario = scenario as ScenarioName;
  }
  const roles = new Map(specs.map((s) => [s.name, s.roles ?? []]));
  const sim = await startSimulator({
    protocol: opts.http ? 'http' : 'https',
    port: opts.port,
    timeScale: opts.timeScale,
    appliances: specs,
  });
  const secretsFile = writeSecretsFile(sim);
  const inputs = writeInputFiles(sim);
  // Listen for the stop signals before saying we are ready: a script may stop us right away. On
  // each, the simulator's folder (CA, secrets, inputs) goes away with it.
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, resolve);
  });
  const run = (workflow: string, input: string) =>
    `  npx --no-install sps-workflows run ${workflow} --input ${input} --secrets ${secretsFile}`;
  const lines = [
    `SPS simulator: scenario ${opts.scenario}, simulated time ×${opts.timeScale}`,
    ...sim.appliances.flatMap((a) => [
      ``,
      `  appliance  ${a.name}${a.scenario && a.scenario !== opts.scenario ? `   (scenario ${a.scenario})` : ''}`,
      ...(a.cluster ? [`  cluster    ${a.cluster} (${roles.get(a.name)!.join(', ')})`] : []),
      `  endpoint   ${a.endpoint}`,
      `  username   ${a.username}`,
      `  password   ${a.password}`,
    ]),
    ``,
    `  CA file    ${opts.http ? '(plain HTTP)' : sim.caFile}`,
    `  secrets    ${secretsFile}   (for: sps-workflows run … --secrets ${secretsFile})`,
    ``,
    `Try it, from this checkout, in another terminal (the inputs name ${sim.appliances[0]!.name}; any firmware URL`,
    `works, the simulator installs the x.y.z it names):`,
    run('firmware-upgrade', inputs.upgrade),
    run('support-bundle', inputs.bundle),
    ...(sim.appliances.length > 1 ? [run('fleet-upgrade', inputs.fleet)] : []),
    ...(opts.timeScale < 30
      ? [`  (at --time-scale ${opts.timeScale} the 1.5 GB download takes simulated time: try --time-scale 60)`]
      : []),
    ``,
    `Or by hand: curl ${opts.http ? '' : `--cacert ${sim.caFile} `}-u ${sim.appliances[0]!.username}:${sim.appliances[0]!.password} ${sim.appliances[0]!.endpoint}/api/authentication -c cookies.txt`,
    `Stop with Ctrl-C (the folder ${sim.dir}, secrets included, is removed).`,
  ];
  stdout.write(`${lines.join('\n')}\n`);
  await stopped;
  await sim.close();
  return 0;
}
