import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESSION_SECRET_PREFIX } from '../../lambdas/operations/catalog';
import { s3Client } from '../../lambdas/shared/archive';
import { awsSetupProblem, SecretsManagerStore } from '../../lambdas/shared/aws';
import { errorText } from '../../lambdas/shared/errors';
import { parseInput, supportBundleInputSchema, unwrapEvent } from '../../lambdas/shared/input';
import type { Deps } from '../../lambdas/shared/operation';
import { systemClock, type Clock, type SecretStore } from '../../lambdas/shared/ports';
import { LocalSecretStore, recordingLogger } from '../engine/adapters';
import {
  causeMessage,
  startWorkflow,
  WORKFLOW_NAMES,
  type HistoryEvent,
  type RunOptions,
  type RunResult,
  type WorkflowName,
} from '../engine/engine';
import { EMBEDDED_S3_CREDENTIALS, startEmbeddedS3 } from '../s3/embedded';
import { fleetReportFooter, storedBundleFooter, type FleetReport, type StoredBundle } from './footer';
import { exitCodeFor, InterruptGuard, type ArchiveTarget, type RunControl, type StoppableRun } from './interrupt';
import { jsonSyntaxError } from './json-file';
import { localApprover } from './approval';
import { ProgressReporter } from './progress';

export const WORKFLOWS = WORKFLOW_NAMES;
/** Where an appliance named alone has its credentials: `--secrets` keys like `sps/<name>`. */
export const CREDENTIALS_SECRET_PREFIX = 'sps/';

type Json = Record<string, unknown>;

/** A usage error: the CLI exits 2. */
export class UsageError extends Error {}

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ExecuteOptions {
  workflow: WorkflowName;
  input: unknown;
  secrets: SecretStore;
  clock?: Clock;
  wait?(seconds: number, signal?: AbortSignal): Promise<void>;
  stderr: Output;
  /** JSON-lines file for the handlers' structured logs. */
  logFile: string;
  executionName?: string;
  /** Where support bundles go (the embedded S3 server or `--s3-endpoint`). */
  archive?: Deps['archive'];
  /** Who answers a fleet upgrade's approval request (without one it times out). */
  approver?: RunOptions['onApprovalRequest'];
  /** SPS client tuning: the demo's in-process simulator answers at once, so its retries need not wait long. */
  client?: Deps['client'];
}

/** Resolves after `ms`, or as soon as `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Starts one workflow locally with progress on stderr; the run can be stopped (`abort`). */
export function start(options: ExecuteOptions): StoppableRun {
  mkdirSync(resolve(options.logFile, '..'), { recursive: true });
  const deps: Deps = {
    secrets: options.secrets,
    clock: options.clock ?? systemClock,
    sessionSecretPrefix: SESSION_SECRET_PREFIX,
    credentialsSecretPrefix: CREDENTIALS_SECRET_PREFIX,
    logger: (keys) => recordingLogger((record) => appendFileSync(options.logFile, `${JSON.stringify(record)}\n`), keys),
    archive: options.archive,
    client: options.client,
  };
  const reporter = new ProgressReporter(options.stderr);
  let quiet = false;
  // An operation still running after a stop (an archive upload) draws nothing more.
  deps.progress = (report) => {
    if (!quiet) reporter.onTransfer(report);
  };
  const running = startWorkflow({
    workflow: options.workflow,
    input: options.input,
    deps,
    wait: options.wait ?? ((seconds, signal) => sleep(seconds * 1000, signal)),
    onEvent: (event) => {
      if (!quiet) reporter.onEvent(event);
    },
    onLifecycleEvent: (e) =>
      appendFileSync(options.logFile, `${JSON.stringify({ level: 'INFO', message: 'lifecycle event', event: e })}\n`),
    // A fleet run's children: one line as each starts and one as it ends.
    onChild: (workflow, input) => {
      const appliance = (input as { appliance?: string | { name?: string } }).appliance;
      // A fleet upgrade's staging is a fleet run of dry runs.
      const name =
        typeof appliance === 'string' ? appliance : (appliance?.name ?? (workflow === 'fleet-run' ? 'staging' : '?'));
      if (!quiet) options.stderr.write(`  → ${name}: ${workflow} started\n`);
      return {
        onEvent: (event: HistoryEvent) => {
          if (quiet || !/^Execution(Succeeded|Failed|Aborted)$/.test(event.type)) return;
          const failure =
            event.type === 'ExecutionFailed' ? `✗ ${name}: ${String(event.Error ?? 'failed')}` : undefined;
          options.stderr.write(`  ${failure ?? `✓ ${name}: ${event.type.slice(9).toLowerCase()}`}\n`);
        },
      };
    },
    onApprovalRequest: options.approver,
    executionName: options.executionName,
  });
  return {
    executionName: running.executionName,
    deps: running.deps,
    result: running.result,
    snapshot: running.snapshot,
    abort: running.abort,
    quiet() {
      if (quiet) return;
      // The reporter ends its progress bar (restoring the cursor) on an execution's end.
      reporter.onEvent({ type: 'ExecutionAborted', timestamp: Date.now() });
      quiet = true;
    },
  };
}

/** Runs one workflow locally with progress on stderr; returns the execution's result. */
export async function execute(options: ExecuteOptions): Promise<RunResult> {
  return start(options).result;
}

/** A fleet upgrade's report: its output, or on a failed run what its Report state returned. */
export function fleetReportOf(result: RunResult): FleetReport | undefined {
  if (result.status === 'SUCCEEDED') return result.output as FleetReport;
  const reported = result.events.find((e) => e.type === 'StateExited' && e.state?.name === 'Report');
  return (reported?.state?.output as { end?: { report?: FleetReport } } | undefined)?.end?.report;
}

/** Prints the result as the CLI contract says and returns the exit code. */
export function report(result: RunResult, stdout: Output, stderr: Output): number {
  if (result.status === 'SUCCEEDED') {
    stdout.write(`${JSON.stringify(result.output, null, 2)}\n`);
    return 0;
  }
  stderr.write(`✗ ${result.error}: ${causeMessage(result.cause)}\n`);
  return 1;
}

export const LOCAL_BUCKET = 'sps-workflows-archive';
export const LOCAL_S3_DIR = join('.sps-workflows', 's3');

/**
 * `--s3-endpoint` (credentials from the AWS environment), else the embedded S3 server. Either way
 * the default bucket is LOCAL_BUCKET.
 */
export async function archiveStorage(
  endpoint: string | undefined,
  stderr: Output,
): Promise<{ archive: NonNullable<Deps['archive']>; endpoint: string; close(): Promise<void> }> {
  if (endpoint) {
    try {
      new URL(endpoint);
    } catch {
      throw new UsageError(`--s3-endpoint ${endpoint} is not a URL`);
    }
    return { archive: { s3: s3Client(endpoint), defaultBucket: LOCAL_BUCKET }, endpoint, close: async () => {} };
  }
  const embedded = await startEmbeddedS3({ directory: LOCAL_S3_DIR, buckets: [LOCAL_BUCKET] });
  stderr.write(`embedded S3 at ${embedded.endpoint}, bucket ${LOCAL_BUCKET}, data in ${LOCAL_S3_DIR}/\n`);
  return {
    archive: {
      s3: s3Client(embedded.endpoint, { region: 'us-east-1', credentials: EMBEDDED_S3_CREDENTIALS }),
      defaultBucket: LOCAL_BUCKET,
    },
    endpoint: embedded.endpoint,
    close: () => embedded.close(),
  };
}

/**
 * The bucket a support-bundle run writes to must be there before anything is asked of the
 * appliance: otherwise the run would create a bundle, download it and only then fail. Input that
 * does not parse is left to the run, which fails with `Input.Invalid` before any request.
 */
async function checkArchiveBucket(
  input: unknown,
  storage: { archive: NonNullable<Deps['archive']>; endpoint: string },
) {
  let bucket: string;
  try {
    bucket = parseInput(supportBundleInputSchema, unwrapEvent(input)).archive.bucket ?? storage.archive.defaultBucket!;
  } catch {
    return;
  }
  const missing = await missingAwsSetup(storage.archive.s3);
  if (missing.length > 0) {
    const set = missing.map(({ what }) =>
      what === 'region'
        ? 'AWS_REGION (us-east-1 suits most S3-compatible servers)'
        : "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the S3 server's keys",
    );
    throw new UsageError(
      `${missing.map((m) => m.problem).join(' and ')} for the S3 server at ${storage.endpoint}: set ${set.join(', and ')}`,
    );
  }
  try {
    await storage.archive.s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    throw new UsageError(bucketProblem(err, bucket, storage.endpoint));
  }
}

/** Why the archive bucket cannot be used, and what to change: the server, or the bucket. */
function bucketProblem(err: unknown, bucket: string, endpoint: string): string {
  const { name, code, $metadata } = err as { name?: string; code?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (code === 'ECONNREFUSED') {
    return `nothing listens at ${endpoint} (ECONNREFUSED): start the S3 server, or check --s3-endpoint's host and port`;
  }
  if (typeof code === 'string' && status === undefined)
    return `the S3 server at ${endpoint} cannot be reached (${code})`;
  const cannot = `bucket ${bucket} cannot be used at ${endpoint}`;
  if (status === 404 || name === 'NotFound' || name === 'NoSuchBucket') {
    return `${cannot} (it does not exist: ${name}): create it, or name another in the input's archive.bucket`;
  }
  if (status === 403 || name === 'Forbidden' || name === 'AccessDenied') {
    return `${cannot} (access denied: ${name}): check that AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are the S3 server's keys, and may use the bucket`;
  }
  return `${cannot} (${errorText(err)})`;
}

/**
 * What the AWS environment lacks for `client`'s calls: a region, credentials. Resolves them as the
 * first call would (the SDK keeps them), so a run stops before it starts, saying what to set.
 */
async function missingAwsSetup(
  client: SecretsManagerClient | S3Client,
): Promise<Array<{ what: 'region' | 'credentials'; problem: string }>> {
  const missing: Array<{ what: 'region' | 'credentials'; problem: string }> = [];
  for (const what of ['region', 'credentials'] as const) {
    try {
      await client.config[what]();
    } catch (err) {
      missing.push({ what, problem: awsSetupProblem(err) ?? `the AWS ${what} cannot be read (${errorText(err)})` });
    }
  }
  return missing;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    // A byte-order mark (some editors write one) is not JSON, and not the user's mistake.
    text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch {
    throw new UsageError(`cannot read ${what} file ${file}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // Node's message quotes the text (a secrets file holds passwords): locate the error instead.
    const found = jsonSyntaxError(text);
    const at = found ? `: line ${found.line}, column ${found.column}: ${found.problem}` : '';
    throw new UsageError(`${what} file ${file} is not valid JSON${at}`);
  }
}

/**
 * `sps-workflows run <workflow> --input FILE [--secrets FILE]`: real time, a real appliance.
 * With `control` (the CLI passes this process's signals), a SIGINT or SIGTERM stops the execution,
 * cleans up what it started on the appliance and returns 128 + the signal (130 for Ctrl-C).
 */
export async function runCommand(
  workflow: string,
  opts: { input: string; secrets?: string; s3Endpoint?: string },
  io: { stdout: Output; stderr: Output; stdin?: NodeJS.ReadStream },
  control?: RunControl,
): Promise<number> {
  if (!WORKFLOWS.includes(workflow as WorkflowName)) {
    throw new UsageError(`unknown workflow "${workflow}" (one of: ${WORKFLOWS.join(', ')})`);
  }
  const input = readJson(opts.input, 'input');
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new UsageError(
      `input file ${opts.input} must hold a JSON object (the workflow input or an EventBridge event)`,
    );
  }
  let secrets: SecretStore;
  if (opts.secrets) {
    const map = readJson(opts.secrets, 'secrets');
    if (!map || typeof map !== 'object' || Array.isArray(map)) {
      throw new UsageError(`secrets file ${opts.secrets} must map secret ids to secret values`);
    }
    secrets = new LocalSecretStore(map as Record<string, unknown>);
  } else {
    const client = new SecretsManagerClient({});
    const missing = await missingAwsSetup(client);
    if (missing.length > 0) {
      throw new UsageError(
        `${missing.map((m) => m.problem).join(' and ')}: without --secrets the appliance's credentials are read ` +
          'from Secrets Manager; pass --secrets FILE for a local run (sps-workflows simulate writes one)',
      );
    }
    secrets = new SecretsManagerStore(client);
  }
  const executionName = `local-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const logFile = join('.sps-workflows', 'logs', `${workflow}-${executionName}.jsonl`);
  const guard = control && new InterruptGuard(workflow as WorkflowName, io.stderr, control);
  io.stderr.write(`${workflow}: execution ${executionName} (handler logs: ${logFile})\n`);
  let storage: Awaited<ReturnType<typeof archiveStorage>> | undefined;
  let interrupted: number | undefined;
  try {
    // A fleet run of archives stores its children's bundles (the same storage, its input checked
    // alike), a fleet preflight or a fleet of upgrades its report.
    // A fleet upgrade stores its report.
    const archives = workflow === 'support-bundle' || workflow === 'fleet-upgrade' || workflow === 'fleet-run';
    if (archives) storage = await archiveStorage(opts.s3Endpoint, io.stderr);
    if (storage)
      await checkArchiveBucket(
        workflow === 'fleet-run'
          ? { appliance: 'any', ...((input as Json).input as Json) }
          : workflow === 'fleet-upgrade'
            ? { appliance: 'any' }
            : input,
        storage,
      );
    if (guard?.stoppedEarly) return (interrupted = exitCodeFor(guard.stoppedEarly));
    const run = start({
      workflow: workflow as WorkflowName,
      input,
      secrets,
      stderr: io.stderr,
      logFile,
      executionName,
      archive: storage?.archive,
      approver: localApprover(io, executionName),
    });
    // A stored bundle ends with where it is and how to check it, as the demo does.
    const finish = (result: RunResult) => {
      const code = report(result, io.stdout, io.stderr);
      if (!storage) return code;
      const where = opts.s3Endpoint ? { endpoint: storage.endpoint } : { embeddedDir: LOCAL_S3_DIR };
      if (code === 0 && workflow === 'support-bundle') {
        io.stderr.write(`\n${storedBundleFooter(result.output as StoredBundle, where).join('\n')}\n`);
      }
      // A fleet upgrade's report, whether it succeeded or not (on a failure: its Report state's).
      const fleet = workflow === 'fleet-upgrade' && fleetReportOf(result);
      if (fleet) io.stderr.write(`\n${fleetReportFooter(fleet, where).join('\n')}\n`);
      return code;
    };
    if (!guard) return finish(await run.result);
    const archive: ArchiveTarget | undefined = storage && {
      endpoint: storage.endpoint,
      defaultBucket: storage.archive.defaultBucket,
      embeddedDir: opts.s3Endpoint ? undefined : LOCAL_S3_DIR,
    };
    const outcome = await guard.supervise(run, archive);
    if (!outcome.interrupted) return finish(outcome.result);
    return (interrupted = outcome.code);
  } finally {
    guard?.dispose();
    // After a stop an upload may still be running into the embedded S3 server: do not wait long.
    const closing = storage?.close();
    if (interrupted === undefined) await closing;
    else await Promise.race([closing?.catch(() => undefined), sleep(2000)]);
    // Whatever the stopped execution still has going (sockets, an upload) must not keep the process.
    if (interrupted !== undefined) control?.exit(interrupted);
  }
}
