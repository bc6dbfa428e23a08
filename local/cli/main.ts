import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { version } from '../../package.json';
import type { WorkflowName } from '../engine/engine';
import type { SimulateOptions } from './simulate';
import { SCENARIOS } from '../simulator/scenarios';

/*
 * Only what parsing and `--help` need is imported here; each command loads its implementation
 * (the engine, the AWS SDK, the simulator) when it runs, so `--help` and usage errors start fast.
 */

const io = { stdout: process.stdout, stderr: process.stderr };

/** What `run --help` says about each workflow; the keys are the workflows `run` accepts. */
export const WORKFLOW_HELP: Record<WorkflowName, { does: string; example: string; input: string[]; note: string }> = {
  'firmware-upgrade': {
    does: 'fetch firmware by URL (sha256-pinned), precheck, upgrade, follow the reboot',
    example: 'npx --no-install sps-workflows run firmware-upgrade --input upgrade.json --secrets secrets.json',
    input: [
      '{"appliance": "sps-lab-1", "options": {"dryRun": true},',
      ' "firmware": {"url": "https://…/sps-8.0.1.iso", "sha256": "…", "expectedVersion": "8.0.1"}}',
    ],
    note: 'a dry run fetches and prechecks, never upgrades: remove "dryRun" to upgrade',
  },
  'support-bundle': {
    does: 'create a support bundle, archive it in S3 (verified), remove it from the appliance',
    example: 'npx --no-install sps-workflows run support-bundle --input bundle.json --secrets secrets.json',
    input: ['{"appliance": "sps-lab-1", "archive": {"bucket": "sps-workflows-archive"}}'],
    note: 'S3: an embedded server (data in .sps-workflows/s3/), or another one with --s3-endpoint URL',
  },
  preflight: {
    does: "the vendor's upgrade checklist (disk, integrity, RAID, backup, plugins, cluster, slots), GETs only",
    example: 'npx --no-install sps-workflows run preflight --input preflight.json --secrets secrets.json',
    input: ['{"appliance": "sps-lab-1", "targetVersion": "8.0.1"}'],
    note: 'exit 0 with the report whatever its verdict; 1 only when it could not check',
  },
  'fleet-run': {
    does: 'one workflow for every registered appliance (each "sps/<name>" secret) or those named',
    example: 'npx --no-install sps-workflows run fleet-run --input nightly.json --secrets secrets.json',
    input: ['{"workflow": "support-bundle", "maxConcurrency": 4, "input": {"archive": {"prefix": "nightly/"}}}'],
    note: 'each appliance by a child execution; fails with Fleet.ChildrenFailed if any did not succeed',
  },
  'fleet-upgrade': {
    does: "inventory, stage, canary, then the rest: clusters one node at a time in the vendor's order",
    example: 'npx --no-install sps-workflows run fleet-upgrade --input rollout.json --secrets secrets.json',
    input: [
      '{"firmware": {"url": "https://…/sps-8.0.1.iso", "sha256": "…", "expectedVersion": "8.0.1"},',
      ' "rollout": {"canary": 1, "maxConcurrency": 4, "maxFailures": 0, "approval": "after-canary"}}',
    ],
    note: 'report in S3 under reports/fleet-upgrade/; an approval is asked at the terminal (or: sps-workflows approve)',
  },
};
const WORKFLOW_NAMES = Object.keys(WORKFLOW_HELP) as WorkflowName[];

/** The text after `run --help`'s options: per workflow an example, then the contract of a run. */
export function runHelpText(): string {
  return [
    '',
    'Workflows:',
    ...WORKFLOW_NAMES.flatMap((name) => {
      const { does, example, input, note } = WORKFLOW_HELP[name];
      return [
        `  ${name}: ${does}`,
        `    ${example}`,
        ...input.map((line, i) => `    ${i === 0 ? 'input:' : '      '} ${line}`),
        `    ${note}`,
        `    handler logs: .sps-workflows/logs/${name}-<execution>.jsonl`,
        '',
      ];
    }),
    '--secrets FILE stands in for Secrets Manager: one credentials secret per appliance,',
    '  {"sps/<name>": {"endpoint": "https://sps.example.internal", "username": "…", "password": "…",',
    '                 "caCertificate": "-----BEGIN CERTIFICATE-----\\n…"}}',
    '  (`sps-workflows simulate` writes one). Without it the credentials come from AWS Secrets',
    '  Manager, with the usual AWS environment.',
    '',
    'Progress goes to stderr, the execution output (JSON) to stdout. Handler logs (JSON lines, no',
    'secrets) go to .sps-workflows/logs/ in the current folder.',
    '',
    'Exit codes:',
    '  0    the execution succeeded (its output on stdout)',
    '  1    the execution failed (error name and cause on stderr)',
    '  2    usage error (an option, an unreadable input or secrets file, an unusable bucket)',
    '  130  interrupted by Ctrl-C, after cleaning up what the run started (143 for SIGTERM)',
    '',
  ].join('\n');
}

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

/** A whole number, at least `min`. */
const count = (min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be a whole number, at least ${min}`);
  return n;
};

const SIMULATE_HELP = [
  '',
  'A fleet: --fleet N --cluster M serves N standalone appliances (sps-sim-1 … sps-sim-N) and the M nodes',
  'of the cluster sps-sim-cluster (sps-sim-cluster-1 … -M), each its own appliance with its own endpoint:',
  '  node 1         central-management, search-master (answers /api/cluster/nodes and /api/cluster/status)',
  '  nodes 2 …      managed-host, search-minion',
  '  node M (M ≥ 3) managed-host, search-local',
  'Standalone appliances listen on 127.0.0.1, cluster nodes on 127.0.0.2, 127.0.0.3, …: the address the',
  "Central Management node gives for a node is the host of that node's endpoint. --scenario applies to all;",
  '--node-scenario NAME=SCENARIO to one (repeatable): a fleet where one node fails its precheck, its fetch,',
  'or never comes back from its reboot (precheck-fails, fetch-fails, reboot-never-returns).',
  'The secrets file holds "sps/<name>" for every appliance; a cluster node\'s has "cluster": "sps-sim-cluster".',
  '',
].join('\n');

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
    .action(async () => {
      const { demoCommand } = await import('./demo');
      onExit(await demoCommand(io));
    });

  cli
    .command('run')
    .description(`run a workflow locally (${WORKFLOW_NAMES.join(', ')})`)
    .argument('<workflow>', WORKFLOW_NAMES.join(' | '))
    .requiredOption('--input <file>', 'workflow input JSON (or an EventBridge event carrying it in detail)')
    .option('--secrets <file>', 'JSON map of secret id to secret value, standing in for Secrets Manager')
    .option('--s3-endpoint <url>', 'S3-compatible endpoint for support bundles (default: an embedded S3 server)')
    .addHelpText('after', runHelpText())
    // Ctrl-C (or SIGTERM) stops the execution and cleans up what it started on the appliance.
    .action(async (workflow: string, opts: { input: string; secrets?: string; s3Endpoint?: string }) => {
      const [{ runCommand }, { processControl }] = await Promise.all([
        import('../run/run'),
        import('../run/interrupt'),
      ]);
      onExit(await runCommand(workflow, opts, { ...io, stdin: process.stdin }, processControl()));
    });

  // A local fleet upgrade waiting for a person, answered from another shell.
  for (const decision of ['approve', 'reject'] as const) {
    cli
      .command(decision)
      .description(`${decision} a local fleet upgrade that waits for approval`)
      .argument('<execution>', "the run's execution name (its first line says it)")
      .option('--reason <text>', 'why (a rejection ends the run in Fleet.Rejected with it)')
      .action(async (execution: string, opts: { reason?: string }) => {
        const { answerApproval } = await import('../run/approval');
        const answered = answerApproval(decision, execution, opts.reason);
        (answered.ok ? io.stdout : io.stderr).write(`${answered.message}\n`);
        onExit(answered.ok ? 0 : 2);
      });
  }

  cli
    .command('simulate')
    .description('the SPS simulator on its own')
    .option('--port <n>', 'port of the first appliance (default: any free port)', port)
    .addOption(new Option('--scenario <name>', 'behaviour of the appliances').choices(SCENARIOS).default('happy'))
    .option('--http', 'plain HTTP instead of HTTPS')
    .option('--time-scale <n>', 'simulated seconds per real second', positiveNumber, 1)
    .option('--appliances <n>', 'how many appliances', positiveNumber, 1)
    .addOption(
      new Option('--fleet <n>', 'how many standalone appliances (0 with --cluster: the cluster only)')
        .argParser(count(0))
        .conflicts('appliances'),
    )
    .option('--cluster <m>', 'also an m-node Central Management cluster (m ≥ 2)', count(2))
    .option(
      '--node-scenario <name=scenario>',
      'one appliance behaves as a scenario of its own (repeatable), e.g. sps-sim-cluster-3=upgrade-reverts',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText('after', SIMULATE_HELP)
    .action(async (opts: SimulateOptions, command: Command) => {
      if (opts.fleet === 0 && opts.cluster === undefined) {
        command.error("error: option '--fleet 0' needs --cluster (no appliance to simulate)", { exitCode: 2 });
      }
      const { simulateCommand, SimulateUsageError } = await import('./simulate');
      try {
        onExit(await simulateCommand(opts, io.stdout));
      } catch (err) {
        if (!(err instanceof SimulateUsageError)) throw err;
        command.error(`error: ${err.message}`, { exitCode: 2 });
      }
    });
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
    const { UsageError } = await import('../run/run');
    if (err instanceof UsageError) {
      io.stderr.write(`sps-workflows: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`sps-workflows: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
