import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { version } from '../../package.json';
import { SCENARIOS, type ScenarioName } from '../simulator';
import { processControl } from '../run/interrupt';
import { runCommand, UsageError, WORKFLOWS } from '../run/run';
import { demoCommand } from './demo';
import { simulateCommand } from './simulate';

const io = { stdout: process.stdout, stderr: process.stderr };

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

/** The `sps-workflows` program (README, "Running a workflow locally"). */
export function program(onExit: (code: number) => void): Command {
  const cli = new Command('sps-workflows')
    .description('SPS firmware upgrades and support-bundle archival: run the workflows locally, or the SPS simulator')
    .version(version)
    .exitOverride()
    .configureOutput({ writeErr: (s) => io.stderr.write(s), writeOut: (s) => io.stdout.write(s) });

  cli
    .command('demo')
    .description('simulator + embedded S3 + both workflows, with progress')
    .action(async () => onExit(await demoCommand(io)));

  cli
    .command('run')
    .description(`run a workflow locally (${WORKFLOWS.join(', ')})`)
    .argument('<workflow>', WORKFLOWS.join(' | '))
    .requiredOption('--input <file>', 'workflow input JSON (or an EventBridge event carrying it in detail)')
    .option('--secrets <file>', 'JSON map of secret id to secret value, standing in for Secrets Manager')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for support bundles (default: an embedded S3 server)')
    // Ctrl-C (or SIGTERM) stops the execution and cleans up what it started on the appliance.
    .action(async (workflow: string, opts: { input: string; secrets?: string; s3Endpoint?: string }) =>
      onExit(await runCommand(workflow, opts, io, processControl())),
    );

  cli
    .command('simulate')
    .description('the SPS simulator on its own')
    .option('--port <n>', 'port of the first appliance (default: any free port)', port)
    .addOption(new Option('--scenario <name>', 'behaviour of the appliances').choices(SCENARIOS).default('happy'))
    .option('--http', 'plain HTTP instead of HTTPS')
    .option('--time-scale <n>', 'simulated seconds per real second', positiveNumber, 1)
    .option('--appliances <n>', 'how many appliances', positiveNumber, 1)
    .action(
      async (opts: { port?: number; scenario: ScenarioName; http?: boolean; timeScale: number; appliances: number }) =>
        onExit(await simulateCommand(opts, io.stdout)),
    );
  return cli;
}

/**
 * Runs the CLI; resolves to the exit code: 0 ok, 1 the execution failed, 2 usage error. A `run`
 * stopped by SIGINT/SIGTERM exits the process itself, 130/143, once it cleaned up.
 */
export async function main(argv: string[]): Promise<number> {
  let code = 0;
  try {
    await program((c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      io.stderr.write(`sps-workflows: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`sps-workflows: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
