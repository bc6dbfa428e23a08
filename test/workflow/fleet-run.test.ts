import { causeMessage, type RunResult } from '../../local/engine/engine';
import type { ApplianceOptions } from '../../local/simulator';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { BUCKET, FIRMWARE_URL, runFleet, SHA256, startHarness, type Harness } from '../helpers/workflow';

/*
 * Fleet runs in the local engine: the real fleet-run ASL starts real child executions of the
 * support-bundle and firmware-upgrade ASL against several simulated appliances. The registry is
 * the set of credentials secrets under `sps/`.
 */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const appliances = (n: number, extra: Partial<ApplianceOptions> = {}) =>
  Array.from({ length: n }, (_, i) => ({ name: `sps-${i + 1}`, ...extra }));

/** Requests each simulated appliance received. */
const requestsTo = (harness: Harness) =>
  Object.fromEntries(
    harness.sim.appliances.map((a) => [
      a.name,
      harness.sim.journal.entries().filter((e) => e.appliance === a.name).length,
    ]),
  );

/** Runs a fleet run; its children as `<workflow> <appliance JSON>`. */
async function fleetRun(harness: Harness, input: unknown) {
  const run = await runFleet(harness, 'fleet-run', input);
  const children = run.children.map(
    (c) => `${c.workflow} ${JSON.stringify((c.input as { appliance: unknown }).appliance)}`,
  );
  return { ...run, children };
}

const expectFailure = (result: RunResult, error: string) =>
  expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error });

describe('fleet run: support-bundle archival of the registry', () => {
  it('archives every registered appliance, each by its own execution, maxConcurrency at a time', async () => {
    h = await startHarness(appliances(5), { s3: true });
    const { result, children, mostAtOnce } = await fleetRun(h, { workflow: 'support-bundle', maxConcurrency: 2 });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({
      workflow: 'support-bundle',
      summary: { total: 5, succeeded: 5, failed: 0 },
      appliances: ['sps-1', 'sps-2', 'sps-3', 'sps-4', 'sps-5'].map((name) => ({ name, status: 'SUCCEEDED' })),
    });
    expect(children).toEqual(['sps-1', 'sps-2', 'sps-3', 'sps-4', 'sps-5'].map((n) => `support-bundle "${n}"`));
    expect(mostAtOnce).toBe(2);
    const keys = (await h.s3!.objects()).map((o) => o.key.split('/')[1]).sort();
    expect(keys).toEqual(['sps-1', 'sps-2', 'sps-3', 'sps-4', 'sps-5']);
    // Each child reported its own lifecycle event.
    expect(h.lifecycleEvents.filter((e) => e.DetailType === 'Support Bundle Archived')).toHaveLength(5);
  });

  it('passes its input to every child, and archives only the appliances named', async () => {
    h = await startHarness(appliances(3), { s3: true });
    const { result, children } = await fleetRun(h, {
      workflow: 'support-bundle',
      appliances: ['sps-3', 'sps-1'],
      input: { archive: { prefix: 'nightly/' }, options: { deleteAfterArchive: false } },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(children).toEqual(['support-bundle "sps-3"', 'support-bundle "sps-1"']);
    expect((await h.s3!.objects()).map((o) => o.key.split('/').slice(0, 2).join('/')).sort()).toEqual([
      'nightly/sps-1',
      'nightly/sps-3',
    ]);
    expect(requestsTo(h)['sps-2']).toBe(0);
    // deleteAfterArchive false reached the children: the bundles stay on the appliances.
    expect(h.sim.appliance('sps-1').state().bundles).toHaveLength(1);
  });

  it('goes on past a failed appliance, then fails with Fleet.ChildrenFailed naming it and its error', async () => {
    h = await startHarness([{ name: 'sps-1' }, { name: 'sps-2', scenario: 'bundle-fails' }, { name: 'sps-3' }], {
      s3: true,
    });
    const { result } = await fleetRun(h, { workflow: 'support-bundle' });
    expectFailure(result, 'Fleet.ChildrenFailed');
    expect(result.cause).toBe('1 of 3 support-bundle runs did not succeed: sps-2 (Sps.BundleFailed)');
    expect((await h.s3!.objects()).map((o) => o.key.split('/')[1]).sort()).toEqual(['sps-1', 'sps-3']);
    // The report is in the last state's input: one row per appliance, the failed child's execution named.
    const report = result.events.find((e) => e.type === 'StateExited' && e.state?.name === 'Report')?.state?.output as {
      report: { appliances: Array<Record<string, string>> };
    };
    expect(report.report.appliances[1]).toEqual({
      name: 'sps-2',
      status: 'FAILED',
      error: 'Sps.BundleFailed',
      execution: expect.stringMatching(/:execution:sps-workflows-support-bundle:/),
    });
  });

  it('reports a name no credentials secret registers (event and failure), and still runs the others', async () => {
    h = await startHarness(appliances(2), { s3: true });
    const { result, children } = await fleetRun(h, {
      workflow: 'support-bundle',
      appliances: ['sps-1', 'sps-9', 'sps-2'],
    });
    expect(children).toHaveLength(2);
    expectFailure(result, 'Fleet.ChildrenFailed');
    expect(result.cause).toBe('1 of 3 support-bundle runs did not succeed: sps-9 (Fleet.NotRegistered)');
    expect(h.lifecycleEvents.filter((e) => e.DetailType === 'Fleet Appliances Not Registered')).toEqual([
      {
        Source: 'sps-workflows',
        DetailType: 'Fleet Appliances Not Registered',
        Detail: { workflow: 'support-bundle', executionArn: expect.any(String), appliances: ['sps-9'] },
      },
    ]);
  });

  it('succeeds with an empty report when nothing is registered under the prefix', async () => {
    h = await startHarness(appliances(1));
    h.deps.credentialsSecretPrefix = 'elsewhere/';
    const { result } = await fleetRun(h, { workflow: 'support-bundle' });
    expect(result.output).toEqual({
      workflow: 'support-bundle',
      summary: { total: 0, succeeded: 0, failed: 0 },
      appliances: [],
    });
  });

  it.each([
    [{ workflow: 'support-bundle', input: { options: { dryrun: true } } }, 'input.options: unknown field(s) dryrun'],
    [{ workflow: 'support-bundle', input: { appliance: 'sps-1' } }, 'input.appliance: set for each child'],
    [{ workflow: 'support-bundle', appliances: ['sps-1', 'sps-1'] }, 'appliances.1: sps-1 is named twice'],
    [{ workflow: 'support-bundle', maxConcurrency: 41 }, 'maxConcurrency: must be an integer from 1 to 40'],
    [{ workflow: 'reboot-all' }, 'workflow: must be one of support-bundle, preflight, firmware-upgrade'],
    [
      { workflow: 'firmware-upgrade', input: { firmware: { url: FIRMWARE_URL, sha256: SHA256 } } },
      'appliances: required',
    ],
    [{ workflow: 'firmware-upgrade', appliances: ['sps-1'], input: {} }, 'input.firmware: required'],
  ])('refuses bad input whole, before any child or request: %j', async (input, problem) => {
    h = await startHarness(appliances(1));
    const { result, children } = await fleetRun(h, input);
    expectFailure(result, 'Input.Invalid');
    expect(causeMessage(result.cause)).toContain(problem);
    expect(children).toEqual([]);
    expect(h.sim.journal.entries()).toEqual([]);
  });
});

describe('fleet run: the weekly preflight', () => {
  it('checks every registered appliance and stores one report, JSON and a Markdown table, in the archive bucket', async () => {
    h = await startHarness(
      [{ name: 'sps-1' }, { name: 'sps-2', scenario: 'low-disk' }, { name: 'sps-3', scenario: 'starling-warning' }],
      {
        s3: true,
      },
    );
    const { result, children } = await fleetRun(h, { workflow: 'preflight', input: { targetVersion: '8.0.1' } });
    expect(children).toHaveLength(3);
    // A failed preflight fails the fleet run (its alarm), naming the appliance and the failed checks.
    expectFailure(result, 'Fleet.ChildrenFailed');
    expect(result.cause).toBe('1 of 3 preflight runs did not succeed: sps-2 (preflight fail: disk-space)');
    const objects = (await h.s3!.objects()).map((o) => o.key).sort();
    expect(objects).toEqual([
      expect.stringMatching(/^reports\/preflight\/\d{4}\/\d{2}\/\d{2}\/\d{8}T\d{6}Z\.json$/),
      expect.stringMatching(/^reports\/preflight\/\d{4}\/\d{2}\/\d{2}\/\d{8}T\d{6}Z\.md$/),
    ]);
    const read = async (key: string) =>
      (await h!.s3!.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();
    const json = JSON.parse(await read(objects[0]!)) as {
      summary: object;
      appliances: Array<{ name: string; verdict: string; checks: Record<string, string>; execution?: string }>;
    };
    expect(json.summary).toEqual({ total: 3, succeeded: 2, failed: 1 });
    expect(
      json.appliances.map((a) => [a.name, a.verdict, a.checks['disk-space'], a.checks['integrated-products']]),
    ).toEqual([
      ['sps-1', 'pass', 'pass', 'pass'],
      ['sps-2', 'fail', 'fail', 'pass'],
      ['sps-3', 'warn', 'pass', 'warn'],
    ]);
    // Where a check did not pass, the appliance's own execution (every summary) is named.
    expect(json.appliances.map((a) => a.execution !== undefined)).toEqual([false, true, true]);
    const table = await read(objects[1]!);
    expect(table).toContain('| appliance | verdict | firmware-api | disk-space |');
    expect(table).toMatch(/\| sps-2 \| ✗ fail \| ✓ \| ✗ \|/);
    expect(table).toContain('1 fail, 1 warn, 1 pass');
    expect(h.lifecycleEvents.find((e) => e.DetailType === 'Fleet Run Finished')).toMatchObject({
      Detail: { workflow: 'preflight', summary: { total: 3, succeeded: 2, failed: 1 }, failed: true },
    });
    // GETs only, everywhere.
    expect(h.sim.journal.entries().filter((e) => e.method !== 'GET')).toEqual([]);
  });
});
