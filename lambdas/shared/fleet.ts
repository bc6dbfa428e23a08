import * as z from 'zod/mini';
import { utcDated } from './archive';
import { CHECK_IDS, type CheckId } from './preflight';
import {
  firmwareUpgradeInputSchema,
  preflightInputSchema,
  FLEET_DEFAULT_CONCURRENCY,
  fleetRunInputSchema,
  InputInvalidError,
  isApplianceName,
  parseInput,
  supportBundleInputSchema,
  type ApplianceReference,
  type FleetWorkflow,
} from './input';

/*
 * Fleet runs (README, "Fleet runs"): one workflow for many appliances, each by a child execution.
 * The registry is the set of credentials secrets under the prefix: an appliance is registered by
 * creating its secret, with no redeploy.
 */

const CHILD_SCHEMAS = {
  'support-bundle': supportBundleInputSchema,
  preflight: preflightInputSchema,
  'firmware-upgrade': firmwareUpgradeInputSchema,
};

/** The appliance names the registry holds, from the ids of the secrets under `prefix`, and the ids that name none. */
export function registeredNames(secretIds: readonly string[], prefix: string): { names: string[]; skipped: string[] } {
  const names: string[] = [];
  const skipped: string[] = [];
  for (const id of secretIds) {
    const name = id.startsWith(prefix) ? id.slice(prefix.length) : '';
    // A registered name is a valid appliance name: other secrets under the prefix are not appliances.
    if (isApplianceName(name)) names.push(name);
    else skipped.push(id);
  }
  return { names, skipped };
}

export interface FleetPlan {
  workflow: FleetWorkflow;
  maxConcurrency: number;
  /** What every child gets, besides its `appliance`. */
  input: Record<string, unknown>;
  /** One per child execution, in order. */
  items: Array<{ appliance: ApplianceReference | string }>;
  /** Names the input gave that no credentials secret registers: reported, never started. */
  unregistered: string[];
}

/**
 * Checks a fleet run's input whole (`Input.Invalid` lists every problem, the children's input
 * included, before any child starts) and decides which appliances it covers: those named, or every
 * registered one. A name the registry lacks is `unregistered`; a reference that names its own
 * secret is passed on (its first state checks it against that secret).
 */
export function planFleetRun(raw: unknown, registered: readonly string[]): FleetPlan {
  const given = parseInput(fleetRunInputSchema, raw);
  const problems: string[] = [];
  if ('appliance' in given.input) {
    problems.push('input.appliance: set for each child by the fleet run (name the appliances in "appliances")');
  }
  if (given.workflow === 'firmware-upgrade' && !given.appliances) {
    problems.push(
      'appliances: required for firmware-upgrade (an upgrade of every registered appliance at once is not offered)',
    );
  }
  const names = (given.appliances ?? []).map((a) => a.name);
  names.forEach((name, i) => {
    if (names.indexOf(name) !== i) problems.push(`appliances.${i}: ${name} is named twice`);
  });
  try {
    // The children's input, checked once here rather than failing once per appliance.
    parseInput(CHILD_SCHEMAS[given.workflow], { ...given.input, appliance: names[0] ?? 'any' });
  } catch (err) {
    if (!(err instanceof InputInvalidError)) throw err;
    problems.push(...err.problems.filter((p) => !p.startsWith('appliance')).map((p) => `input.${p}`));
  }
  if (problems.length > 0) throw new InputInvalidError(problems);

  const known = new Set(registered);
  const references: ApplianceReference[] = given.appliances ?? registered.map((name) => ({ name }));
  const items: FleetPlan['items'] = [];
  const unregistered: string[] = [];
  for (const ref of references) {
    if (ref.credentialsSecretId || known.has(ref.name)) {
      items.push({ appliance: Object.keys(ref).length === 1 ? ref.name : ref });
    } else {
      unregistered.push(ref.name);
    }
  }
  return {
    workflow: given.workflow,
    maxConcurrency: given.maxConcurrency ?? FLEET_DEFAULT_CONCURRENCY[given.workflow],
    input: given.input,
    items,
    unregistered,
  };
}

/** How one child ended, as the fleet run's Map records it; a preflight's also its verdicts. */
export const childRunSchema = z.object({
  appliance: z.union([z.string(), z.object({ name: z.string() })]),
  run: z.object({
    status: z.string(),
    error: z.optional(z.string()),
    execution: z.optional(z.string()),
    verdict: z.optional(z.string()),
    /** Each check's verdict, in CHECK_IDS order. */
    checks: z.optional(z.array(z.string())),
    /** An upgrade's: its outcome, the precheck's summary and the slot it tested. */
    outcome: z.optional(z.string()),
    testSummary: z.optional(z.nullable(z.string())),
    slotId: z.optional(z.nullable(z.string())),
  }),
});
export type ChildRun = z.output<typeof childRunSchema>;

export interface FleetReportRow {
  name: string;
  status: string;
  error?: string;
  execution?: string;
  verdict?: string;
  checks?: Partial<Record<CheckId, string>>;
  outcome?: string;
  testSummary?: string | null;
  slotId?: string | null;
}

export interface FleetReport {
  workflow: FleetWorkflow;
  summary: { total: number; succeeded: number; failed: number };
  appliances: FleetReportRow[];
}

/** A row that did not succeed: its run did not, or its preflight failed. */
const failedRow = (row: FleetReportRow) => row.status !== 'SUCCEEDED' || row.verdict === 'fail';

/** Failures named in a cause, at most; the report lists every one. */
const CAUSE_NAMES = 20;

/** `a (why), b (why) and N more`: the failures a cause names. */
export function namedFailures(failures: ReadonlyArray<{ name: string; why: string }>): string {
  const named = failures
    .slice(0, CAUSE_NAMES)
    .map((f) => `${f.name} (${f.why})`)
    .join(', ');
  return failures.length > CAUSE_NAMES ? `${named} and ${failures.length - CAUSE_NAMES} more` : named;
}

/** The run's report; `cause` names the appliances that failed (or were not registered), empty when none. */
export function reportFleetRun(
  workflow: FleetWorkflow,
  results: readonly ChildRun[],
  unregistered: readonly string[],
): { report: FleetReport; failed: boolean; cause: string } {
  const appliances: FleetReport['appliances'] = [
    ...results.map(({ appliance, run }) => ({
      name: typeof appliance === 'string' ? appliance : appliance.name,
      status: run.status,
      ...(run.error ? { error: run.error } : {}),
      ...(run.verdict ? { verdict: run.verdict } : {}),
      ...(run.outcome
        ? { outcome: run.outcome, testSummary: run.testSummary ?? null, slotId: run.slotId ?? null }
        : {}),
      ...(run.checks
        ? { checks: Object.fromEntries(CHECK_IDS.map((id, i) => [id, run.checks![i] ?? 'missing'])) }
        : {}),
      ...(run.execution && (run.status !== 'SUCCEEDED' || run.verdict !== 'pass') ? { execution: run.execution } : {}),
    })),
    ...unregistered.map((name) => ({
      name,
      status: 'NOT_REGISTERED',
      error: 'Fleet.NotRegistered',
    })),
  ];
  const failures = appliances.filter(failedRow);
  const why = (a: FleetReportRow) =>
    a.error ??
    (a.verdict === 'fail'
      ? `preflight fail: ${Object.entries(a.checks ?? {})
          .filter(([, v]) => v === 'fail')
          .map(([id]) => id)
          .join(', ')}`
      : a.status);
  const named = namedFailures(failures.map((a) => ({ name: a.name, why: why(a) })));
  return {
    report: {
      workflow,
      summary: { total: appliances.length, succeeded: appliances.length - failures.length, failed: failures.length },
      appliances,
    },
    failed: failures.length > 0,
    cause:
      failures.length > 0
        ? `${failures.length} of ${appliances.length} ${workflow} runs did not succeed: ${named}`
        : '',
  };
}

const MARK: Record<string, string> = { pass: '✓', warn: '!', fail: '✗', unknown: '?' };

/** A fleet preflight as a table a person reads at a glance: appliance by appliance, check by check. */
export function preflightMarkdown(report: FleetReport, at: Date, execution: string): string {
  const count = (v: string) => report.appliances.filter((a) => a.verdict === v).length;
  const lines = [
    `# Preflight of ${report.summary.total} appliance(s), ${at.toISOString()}`,
    '',
    `${count('fail')} fail, ${count('warn')} warn, ${count('pass')} pass` +
      `${report.summary.total - count('fail') - count('warn') - count('pass') > 0 ? `, ${report.summary.total - count('fail') - count('warn') - count('pass')} not checked` : ''}. ` +
      `Execution \`${execution}\`. ✓ pass, ! warn, ✗ fail, ? unknown (counts as warn); each appliance's ` +
      'own execution (linked where a check did not pass) has every summary.',
    '',
    `| appliance | verdict | ${CHECK_IDS.join(' | ')} |`,
    `| --- | --- | ${CHECK_IDS.map(() => '---').join(' | ')} |`,
    ...report.appliances.map((a) =>
      a.checks
        ? `| ${a.name} | ${MARK[a.verdict ?? ''] ?? ''} ${a.verdict ?? ''} | ${CHECK_IDS.map((id) => MARK[a.checks![id] ?? ''] ?? '—').join(' | ')} |`
        : `| ${a.name} | not checked: ${a.error ?? a.status} | ${CHECK_IDS.map(() => '—').join(' | ')} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

/**
 * `reports/<workflow>/<yyyy>/<mm>/<dd>/<name>` (the caller adds `.json`, `.md`): a fleet run's is
 * named by its time (`yyyymmddThhmmssZ`), a fleet upgrade's by its execution.
 */
export function fleetReportKey(
  workflow: 'preflight' | 'firmware-upgrade' | 'fleet-upgrade',
  at: Date,
  name = utcDated(at).stamp,
): string {
  return `reports/${workflow}/${utcDated(at).path}/${name}`;
}

const cell = (text: string | null | undefined) => (text ?? '').replace(/\|/g, '\\|').replace(/\n/g, '<br>');

/**
 * A fleet run of upgrades (a fleet upgrade's staging: dry runs) as the table its approver reads:
 * each appliance's outcome, preflight verdict, tested slot and the precheck's summary.
 */
export function upgradesMarkdown(report: FleetReport, at: Date, execution: string): string {
  return [
    `# Firmware upgrades of ${report.summary.total} appliance(s), ${at.toISOString()}`,
    '',
    `${report.summary.succeeded} succeeded, ${report.summary.failed} did not. Execution \`${execution}\`. ` +
      "Each appliance's own execution has its whole preflight report and history.",
    '',
    '| appliance | status | outcome | preflight | slot | precheck summary |',
    '| --- | --- | --- | --- | --- | --- |',
    ...report.appliances.map(
      (a) =>
        `| ${a.name} | ${a.status} | ${a.outcome ?? a.error ?? ''} | ${a.verdict ?? ''} | ${cell(a.slotId)} | ${cell(a.testSummary)} |`,
    ),
    '',
  ].join('\n');
}
