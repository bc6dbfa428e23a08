import { planFleetRunOperation } from '../../lambdas/operations/fleet';
import {
  planFleetRun,
  preflightMarkdown,
  fleetReportKey,
  registeredNames,
  reportFleetRun,
  type ChildRun,
} from '../../lambdas/shared/fleet';
import { CHECK_IDS } from '../../lambdas/shared/preflight';
import { LocalSecretStore, recordingLogger, type LogRecord } from '../../local/engine/adapters';

/* Fleet runs: the registry, the plan (input checked whole, names matched) and the report. */

const firmware = { url: 'https://downloads.example.internal/sps-8.0.1.iso', sha256: 'a'.repeat(64) };
/** The Step Functions limit on a state's input and output. */
const STATE_LIMIT = 256 * 1024;

describe('registeredNames', () => {
  it('takes the names after the prefix that are appliance names, and leaves other secrets out', () => {
    expect(
      registeredNames(['sps/sps-1', 'sps/lab.2', 'sps/', 'sps/nested/x', 'other/sps-3', 'sps/-dash'], 'sps/'),
    ).toEqual({ names: ['sps-1', 'lab.2'], skipped: ['sps/', 'sps/nested/x', 'other/sps-3', 'sps/-dash'] });
  });
});

describe('planFleetRun', () => {
  it('covers every registered appliance by default, with the workflow default concurrency', () => {
    expect(planFleetRun({ workflow: 'support-bundle' }, ['a', 'b'])).toEqual({
      workflow: 'support-bundle',
      maxConcurrency: 10,
      input: {},
      items: [{ appliance: 'a' }, { appliance: 'b' }],
      unregistered: [],
    });
  });

  it('keeps the order given, reports names not registered, and passes references that name their own secret', () => {
    const ref = { name: 'lab', endpoint: 'https://lab.example.internal', credentialsSecretId: 'lab/creds' };
    const plan = planFleetRun({ workflow: 'support-bundle', appliances: ['b', 'zz', ref, { name: 'a' }] }, ['a', 'b']);
    expect(plan.items).toEqual([{ appliance: 'b' }, { appliance: ref }, { appliance: 'a' }]);
    expect(plan.unregistered).toEqual(['zz']);
  });

  it('lists every problem at once, the children input included, and never a value', () => {
    const secret = 'Pa55w0rd-PASTED';
    expect(() =>
      planFleetRun(
        {
          workflow: 'firmware-upgrade',
          appliances: ['a', 'a'],
          input: { appliance: 'a', firmware: { ...firmware, sha256: secret }, options: { dryrun: true } },
          maxConcurrency: 0,
        },
        ['a'],
      ),
    ).toThrow(
      expect.objectContaining({
        name: 'Input.Invalid',
        problems: ['maxConcurrency: must be an integer from 1 to 40 (got a number below 1)'],
      }),
    );
    let problems: string[] = [];
    try {
      planFleetRun(
        {
          workflow: 'firmware-upgrade',
          appliances: ['a', 'a'],
          input: { appliance: 'a', firmware: { ...firmware, sha256: secret }, options: { dryrun: true } },
        },
        ['a'],
      );
    } catch (err) {
      problems = (err as { problems: string[] }).problems;
    }
    expect(problems).toEqual([
      'input.appliance: set for each child by the fleet run (name the appliances in "appliances")',
      'appliances.1: a is named twice',
      'input.firmware.sha256: must be 64 hexadecimal characters',
      'input.options: unknown field(s) dryrun',
    ]);
    expect(problems.join(' ')).not.toContain(secret);
  });

  it('plans a thousand appliances within the state size limit', () => {
    const names = Array.from({ length: 1000 }, (_, i) => `sps-prod-${String(i).padStart(4, '0')}`);
    const plan = planFleetRun({ workflow: 'support-bundle', input: { archive: { prefix: 'nightly/' } } }, names);
    expect(plan.items).toHaveLength(1000);
    expect(JSON.stringify(plan).length).toBeLessThan(STATE_LIMIT / 4);
  });
});

describe('reportFleetRun', () => {
  const execution = (n: number) =>
    `arn:aws:states:eu-central-1:123456789012:execution:SpsWorkflows-support-bundle:${'0'.repeat(8)}-${n}`;

  it('has one row per appliance, unregistered names last; the cause names failures with their errors', () => {
    const results: ChildRun[] = [
      { appliance: 'a', run: { status: 'SUCCEEDED' } },
      { appliance: { name: 'b' }, run: { status: 'FAILED', error: 'Sps.Timeout', execution: execution(2) } },
      { appliance: 'c', run: { status: 'ABORTED', execution: execution(3) } },
      { appliance: 'd', run: { status: 'NOT_STARTED', error: 'States.Timeout' } },
    ];
    expect(reportFleetRun('support-bundle', results, ['e'])).toEqual({
      report: {
        workflow: 'support-bundle',
        summary: { total: 5, succeeded: 1, failed: 4 },
        appliances: [
          { name: 'a', status: 'SUCCEEDED' },
          { name: 'b', status: 'FAILED', error: 'Sps.Timeout', execution: execution(2) },
          { name: 'c', status: 'ABORTED', execution: execution(3) },
          { name: 'd', status: 'NOT_STARTED', error: 'States.Timeout' },
          { name: 'e', status: 'NOT_REGISTERED', error: 'Fleet.NotRegistered' },
        ],
      },
      failed: true,
      cause:
        '4 of 5 support-bundle runs did not succeed: b (Sps.Timeout), c (ABORTED), d (States.Timeout), e (Fleet.NotRegistered)',
    });
  });

  it('succeeds with an empty cause when every run succeeded', () => {
    expect(reportFleetRun('firmware-upgrade', [{ appliance: 'a', run: { status: 'SUCCEEDED' } }], [])).toMatchObject({
      failed: false,
      cause: '',
    });
  });

  it('counts a failed preflight as a failure, with each check by id, and keeps the execution where a check did not pass', () => {
    const verdicts = (fail: string) => CHECK_IDS.map((id) => (id === fail ? 'fail' : 'pass'));
    const results: ChildRun[] = [
      { appliance: 'a', run: { status: 'SUCCEEDED', verdict: 'pass', checks: verdicts('') } },
      {
        appliance: 'b',
        run: { status: 'SUCCEEDED', verdict: 'fail', checks: verdicts('raid'), execution: execution(2) },
      },
    ];
    const outcome = reportFleetRun('preflight', results, []);
    expect(outcome.cause).toBe('1 of 2 preflight runs did not succeed: b (preflight fail: raid)');
    expect(outcome.report.summary).toEqual({ total: 2, succeeded: 1, failed: 1 });
    expect(outcome.report.appliances[1]).toMatchObject({ name: 'b', verdict: 'fail', execution: execution(2) });
    expect(outcome.report.appliances[1]!.checks).toMatchObject({ raid: 'fail', 'disk-space': 'pass' });
    const table = preflightMarkdown(outcome.report, new Date('2026-12-07T06:00:00Z'), 'arn:x');
    expect(table.split('\n').slice(0, 3)).toEqual([
      '# Preflight of 2 appliance(s), 2026-12-07T06:00:00.000Z',
      '',
      expect.stringMatching(/^1 fail, 0 warn, 1 pass\. Execution `arn:x`\./),
    ]);
    expect(table).toContain('| b | ✗ fail | ✓ | ✓ | ✓ | ✗ |');
    expect(fleetReportKey('preflight', new Date('2026-12-07T06:00:00Z'))).toBe(
      'reports/preflight/2026/12/07/20261207T060000Z',
    );
  });

  it('names at most 20 failures in the cause; a thousand failed rows fit a state', () => {
    const results: ChildRun[] = Array.from({ length: 1000 }, (_, i) => ({
      appliance: `sps-prod-${i}`,
      run: { status: 'FAILED', error: 'Sps.ConnectionError', execution: execution(i) },
    }));
    const outcome = reportFleetRun('support-bundle', results, []);
    expect(outcome.cause).toMatch(
      /: sps-prod-0 \(Sps\.ConnectionError\), .*sps-prod-19 \(Sps\.ConnectionError\) and 980 more$/,
    );
    // The Map's results (the report's input) and the report itself stay under a state's limit.
    expect(JSON.stringify(results).length).toBeLessThan(STATE_LIMIT);
    expect(JSON.stringify(outcome).length).toBeLessThan(STATE_LIMIT);
  });
});

describe('plan-fleet-run', () => {
  it('lists the registry by name only (no secret value read), and logs names left out', async () => {
    const records: LogRecord[] = [];
    const secrets = new LocalSecretStore({ 'sps/a': { password: 'p' }, 'sps/b/c': {}, 'sps-workflows/sessions/a': {} });
    const get = jest.spyOn(secrets, 'get');
    const plan = await planFleetRunOperation.run(
      { input: { workflow: 'support-bundle' } },
      {
        secrets,
        clock: { now: () => 0 },
        sessionSecretPrefix: 'sps-workflows/sessions/',
        credentialsSecretPrefix: 'sps/',
        logger: (keys) => recordingLogger((r) => records.push(r), keys),
      },
    );
    expect(plan.items).toEqual([{ appliance: 'a' }]);
    expect(get).not.toHaveBeenCalled();
    expect(records.map((r) => [r.level, r.message])).toEqual([
      ['WARN', 'secrets under the prefix that name no appliance were left out'],
      ['INFO', 'fleet run planned'],
      ['INFO', 'plan-fleet-run done'],
    ]);
    expect(records[0]!.secretIds).toEqual(['sps/b/c']);
  });
});
