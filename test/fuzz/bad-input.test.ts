import fc from 'fast-check';
import { causeMessage } from '../../local/engine/engine';
import { bundleInput, firmwareInput, startHarness, type Harness } from '../helpers/workflow';

/*
 * Property: any malformed input ends the execution in Input.Invalid, naming a field, with zero
 * requests to the appliance. Inputs are a valid one with one or more breaking mutations applied.
 */

type Json = Record<string, unknown>;
type Mutation = { describe: string; apply(input: Json): unknown };

const clone = (x: unknown) => JSON.parse(JSON.stringify(x)) as Json;
const setPath = (obj: Json, path: string[], value: unknown): Json => {
  const out = clone(obj);
  let node = out;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {};
    node = node[key] as Json;
  }
  if (value === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = value;
  return out;
};

/**
 * Values that are wrong for the fields they are put in (strings where numbers are due, and so
 * on): a boolean is among them, so boolean fields are not `typed` (a boolean would be right there).
 */
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({}),
  fc.integer({ min: -5, max: 0 }),
);
/** A well-formed endpoint that is not the one the appliance's credentials secret names. */
const otherEndpoint = fc.constantFrom(
  'https://127.0.0.2',
  'https://127.0.0.1:1',
  'https://[::1]:2',
  'http://127.0.0.1',
);
const badUrl = fc.oneof(
  fc.constant('file:///etc/passwd'),
  fc.constant('ftp://downloads/x.iso'),
  fc.string({ maxLength: 10 }).filter((s) => !/^https?:\/\//.test(s)),
);
const badSha = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: 63 }),
  fc.string({ minLength: 64, maxLength: 64 }).filter((s) => !/^[0-9a-fA-F]{64}$/.test(s)),
);
const badName = fc.oneof(
  fc.constant(''),
  fc.constant('../etc'),
  fc.constant('has space'),
  fc.string({ minLength: 64, maxLength: 80 }).map((s) => `a${s.replace(/[^a-z]/g, 'a')}`),
);
const unknownKey = fc.string({ minLength: 1, maxLength: 8 }).map((s) => `x_${s.replace(/[^a-z]/gi, '')}`);

function mutations(fields: {
  required: string[][];
  typed: string[][];
  extra: Array<[fc.Arbitrary<unknown>, string[]]>;
}): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc
      .constantFrom(...fields.required)
      .map((path) => ({ describe: `drop ${path.join('.')}`, apply: (i: Json) => setPath(i, path, undefined) })),
    fc.tuple(fc.constantFrom(...fields.typed), wrongType).map(([path, v]) => ({
      describe: `${path.join('.')} = ${JSON.stringify(v)}`,
      apply: (i: Json) => setPath(i, path, v),
    })),
    fc.tuple(fc.constantFrom(['appliance'], ['options'], []), unknownKey).map(([path, key]) => ({
      describe: `unknown ${[...path, key].join('.')}`,
      apply: (i: Json) => setPath(i, [...path, key], 1),
    })),
    ...fields.extra.map(([arb, path]) =>
      arb.map((v) => ({
        describe: `${path.join('.')} = ${JSON.stringify(v)}`,
        apply: (i: Json) => setPath(i, path, v),
      })),
    ),
    fc
      // (A null input is refused by the CLI before the engine: aws-local-stepfunctions cannot read `$` of null.)
      .constantFrom<unknown>('text', 42, [], true)
      .map((v) => ({ describe: `input ${JSON.stringify(v)}`, apply: () => v })),
  );
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness([{ name: 'sps-sim-1' }], { s3: true });
});
afterAll(() => h.close());

async function expectInvalid(
  workflow: 'firmware-upgrade' | 'support-bundle' | 'preflight' | 'fleet-run' | 'fleet-upgrade',
  valid: Json,
  arb: fc.Arbitrary<Mutation[]>,
) {
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (muts) => {
      runs++;
      const input = muts.reduce<unknown>(
        (acc, m) => (acc && typeof acc === 'object' && !Array.isArray(acc) ? m.apply(acc as Json) : acc),
        valid,
      );
      h.sim.journal.clear();
      const result = await h.run(workflow, input);
      expect(result.error).toBe('Input.Invalid');
      expect(causeMessage(result.cause)).toMatch(/^Invalid input: /);
      expect(h.sim.journal.entries()).toEqual([]);
    }),
    { numRuns: 200, seed: 20261122 },
  );
  expect(runs).toBeGreaterThanOrEqual(200);
}

describe('bad input never reaches the appliance', () => {
  it('firmware upgrade: 200 generated bad inputs end in Input.Invalid with zero requests', async () => {
    const valid = firmwareInput(h) as unknown as Json;
    const arb = fc.array(
      mutations({
        required: [['appliance'], ['firmware'], ['appliance', 'name'], ['firmware', 'url'], ['firmware', 'sha256']],
        typed: [
          ['appliance', 'name'],
          ['appliance', 'endpoint'],
          ['firmware', 'url'],
          ['firmware', 'sha256'],
          ['options', 'polling', 'minSeconds'],
          ['options', 'timeouts', 'rebootMinutes'],
          ['options', 'timeouts', 'fetchMinutes'],
        ],
        extra: [
          [badUrl, ['firmware', 'url']],
          [badUrl, ['appliance', 'endpoint']],
          [otherEndpoint, ['appliance', 'endpoint']],
          [badSha, ['firmware', 'sha256']],
          [badName, ['appliance', 'name']],
          [fc.integer({ min: 3601, max: 100000 }), ['options', 'polling', 'maxSeconds']],
        ],
      }),
      { minLength: 1, maxLength: 3 },
    );
    await expectInvalid('firmware-upgrade', valid, arb);
  }, 120_000);

  it('support bundle: 200 generated bad inputs end in Input.Invalid with zero requests', async () => {
    const valid = { ...bundleInput(h), archive: { prefix: 'b/' }, options: { deleteAfterArchive: true } } as Json;
    const arb = fc.array(
      mutations({
        required: [['appliance'], ['appliance', 'name']],
        typed: [
          ['appliance', 'endpoint'],
          ['archive', 'prefix'],
          ['archive', 'bucket'],
          ['options', 'timeouts', 'generateMinutes'],
        ],
        extra: [
          [badUrl, ['appliance', 'endpoint']],
          [otherEndpoint, ['appliance', 'endpoint']],
          [badName, ['appliance', 'name']],
          [fc.constantFrom('/abs/', 'no-slash', '//'), ['archive', 'prefix']],
          [fc.constantFrom('UPPER', 'a', 'under_score', '-dash'), ['archive', 'bucket']],
        ],
      }),
      { minLength: 1, maxLength: 3 },
    );
    await expectInvalid('support-bundle', valid, arb);
  }, 120_000);

  it('preflight: 200 generated bad inputs end in Input.Invalid with zero requests', async () => {
    const valid = { appliance: h.ref(), targetVersion: '8.0.1', options: { minFreeDiskPercent: 10 } } as Json;
    const arb = fc.array(
      mutations({
        required: [['appliance'], ['appliance', 'name']],
        // (Not the boolean options: a boolean is among the wrong types tried, and right for them.)
        typed: [['appliance', 'endpoint'], ['targetVersion'], ['options', 'minFreeDiskPercent']],
        extra: [
          [otherEndpoint, ['appliance', 'endpoint']],
          [badName, ['appliance', 'name']],
          [fc.integer({ min: 101, max: 1000 }), ['options', 'minFreeDiskPercent']],
          [fc.integer({ min: -100, max: -1 }), ['options', 'maxActiveSessions']],
          [fc.constantFrom('', '   '), ['targetVersion']],
        ],
      }),
      { minLength: 1, maxLength: 3 },
    );
    await expectInvalid('preflight', valid, arb);
  }, 120_000);

  it('fleet run: 200 generated bad inputs end in Input.Invalid, no child started and zero requests', async () => {
    const valid = { workflow: 'support-bundle', appliances: ['sps-sim-1'], input: {}, maxConcurrency: 2 } as Json;
    const arb = fc.array(
      mutations({
        required: [['workflow']],
        // (Not `input`: the wrong types tried include {}, which is a valid one.)
        typed: [['workflow'], ['appliances'], ['maxConcurrency']],
        extra: [
          [fc.constantFrom('reboot', 'fleet-run', 'Support-Bundle'), ['workflow']],
          [fc.integer({ min: 41, max: 1000 }), ['maxConcurrency']],
          [badName.map((n) => [n]), ['appliances']],
          [fc.constant([]), ['appliances']],
          [fc.constant({ appliance: 'sps-sim-1' }), ['input']],
          [fc.constant({ options: { dryrun: true } }), ['input']],
          [fc.constant({ archive: { prefix: '/abs/' } }), ['input']],
        ],
      }),
      { minLength: 1, maxLength: 3 },
    );
    await expectInvalid('fleet-run', valid, arb);
  }, 120_000);

  it('fleet upgrade: 200 generated bad inputs end in Input.Invalid, no child started and zero requests', async () => {
    const valid = {
      ...(({ firmware }) => ({ firmware }))(firmwareInput(h)),
      appliances: ['sps-sim-1'],
      rollout: {
        canary: 1,
        maxConcurrency: 2,
        approval: 'after-canary',
        window: { days: ['Sat'], start: '22:00', end: '04:00', timeZone: 'Europe/Budapest' },
      },
      options: { dryRun: true },
    } as Json;
    const arb = fc.array(
      mutations({
        required: [['firmware'], ['firmware', 'url'], ['firmware', 'expectedVersion']],
        // (Not canary or maxFailures: 0, among the wrong values tried, is right for them.)
        typed: [
          ['firmware', 'url'],
          ['firmware', 'expectedVersion'],
          ['appliances'],
          ['rollout', 'maxConcurrency'],
          ['rollout', 'approvalTimeoutMinutes'],
          ['rollout', 'window', 'start'],
          ['rollout', 'window', 'timeZone'],
        ],
        extra: [
          [badUrl, ['firmware', 'url']],
          [badSha, ['firmware', 'sha256']],
          [fc.integer({ min: 41, max: 1000 }), ['rollout', 'maxConcurrency']],
          [fc.integer({ min: 1001, max: 100000 }), ['rollout', 'canary']],
          [fc.constantFrom('maybe', 'always', 'After-Canary'), ['rollout', 'approval']],
          [fc.constantFrom([], ['Funday'], ['sat']), ['rollout', 'window', 'days']],
          [fc.constantFrom('24:00', '7:00', 'noon', '22:60'), ['rollout', 'window', 'end']],
          [fc.constantFrom('Mars/Olympus', 'UTC+1', ''), ['rollout', 'window', 'timeZone']],
          [fc.constantFrom(['sps-sim-1', 'sps-sim-1'], ['not-registered'], []), ['appliances']],
          [badName, ['cluster']],
          [fc.constant({ dryrun: true }), ['options']],
        ],
      }),
      { minLength: 1, maxLength: 3 },
    );
    await expectInvalid('fleet-upgrade', valid, arb);
  }, 120_000);
});
