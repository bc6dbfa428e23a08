import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIOS, startSimulator, type ScenarioName, type Simulator } from '../simulator';
import type { Output } from '../run/run';
import { simulatedCredentials } from '../simulator/credentials';

export interface SimulateOptions {
  port?: number;
  scenario: ScenarioName;
  http?: boolean;
  timeScale: number;
  appliances: number;
}

/** The secrets file `run --secrets` reads: credentials secret id → credentials. */
export function writeSecretsFile(sim: Simulator): string {
  const file = join(sim.dir, 'secrets.json');
  const secrets = Object.fromEntries(sim.appliances.map((a) => [`sps/${a.name}`, simulatedCredentials(sim, a)]));
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return file;
}

/** `sps-workflows simulate`: serves until SIGINT/SIGTERM. */
export async function simulateCommand(opts: SimulateOptions, stdout: Output): Promise<number> {
  if (!SCENARIOS.includes(opts.scenario)) throw new Error(`unknown scenario ${opts.scenario}`);
  const sim = await startSimulator({
    protocol: opts.http ? 'http' : 'https',
    port: opts.port,
    timeScale: opts.timeScale,
    appliances: Array.from({ length: opts.appliances }, (_, i) => ({
      name: `sps-sim-${i + 1}`,
      scenario: opts.scenario,
    })),
  });
  const secretsFile = writeSecretsFile(sim);
  // Listen for the stop signals before saying we are ready: a script may stop us right away.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  const lines = [
    `SPS simulator: scenario ${opts.scenario}, simulated time ×${opts.timeScale}`,
    ...sim.appliances.flatMap((a) => [
      ``,
      `  appliance  ${a.name}`,
      `  endpoint   ${a.endpoint}`,
      `  username   ${a.username}`,
      `  password   ${a.password}`,
    ]),
    ``,
    `  CA file    ${opts.http ? '(plain HTTP)' : sim.caFile}`,
    `  secrets    ${secretsFile}   (for: sps-workflows run … --secrets ${secretsFile})`,
    ``,
    `Try: curl ${opts.http ? '' : `--cacert ${sim.caFile} `}-u ${sim.appliances[0]!.username}:${sim.appliances[0]!.password} ${sim.appliances[0]!.endpoint}/api/authentication -c cookies.txt`,
    `Stop with Ctrl-C.`,
  ];
  stdout.write(`${lines.join('\n')}\n`);
  await stopped;
  await sim.close();
  return 0;
}
