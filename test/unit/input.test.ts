import { fleetUpgradeInputSchema } from '../../lambdas/shared/fleet-upgrade-input';
import {
  firmwareUpgradeInputSchema,
  fleetRunInputSchema,
  INPUT_LIMITS,
  InputInvalidError,
  MAX_POLLS_PER_LOOP,
  parseInput,
  preflightInputSchema,
  settlePolling,
  supportBundleInputSchema,
  unwrapEvent,
  type InputLimit,
  type WorkflowInput,
} from '../../lambdas/shared/input';

const appliance = {
  name: 'sps-prod-1',
  endpoint: 'https://sps1.example.internal',
  credentialsSecretId: 'sps/sps-prod-1',
};
const firmware = {
  url: 'https://downloads.example.internal/sps-8.0.1.iso',
  sha256: 'AB'.repeat(32),
  expectedVersion: '8.0.1',
};

const invalid = (schema: Parameters<typeof parseInput>[0], raw: unknown): string => {
  try {
    parseInput(schema, raw);
  } catch (err) {
    expect((err as Error).name).toBe('Input.Invalid');
    return (err as Error).message;
  }
  throw new Error('expected Input.Invalid');
};

describe('firmware upgrade input', () => {
  it('fills in defaults and normalizes', () => {
    const input = parseInput(firmwareUpgradeInputSchema, {
      appliance: { ...appliance, endpoint: 'https://sps1/' },
      firmware,
    });
    expect(input.appliance.endpoint).toBe('https://sps1');
    expect(input.firmware.sha256).toBe('ab'.repeat(32));
    expect(input.options).toEqual({
      dryRun: false,
      allowClusterMember: false,
      freeOldestSlot: false,
      preflight: 'enforce',
      upgradeMessage: 'Upgrade to 8.0.1 by sps-workflows',
      polling: { minSeconds: 10, maxSeconds: 300 },
      timeouts: { fetchMinutes: 120, rebootMinutes: 45 },
    });
  });

  it('takes the input from an EventBridge event detail', () => {
    const event = { version: '0', 'detail-type': 'Firmware Release', source: 'x', detail: { appliance, firmware } };
    expect(parseInput(firmwareUpgradeInputSchema, unwrapEvent(event)).appliance.name).toBe('sps-prod-1');
  });

  it('treats options: null (a release event without options) as the defaults', () => {
    expect(
      parseInput(firmwareUpgradeInputSchema, unwrapEvent({ appliance, firmware, options: null })).options.dryRun,
    ).toBe(false);
  });

  it.each([
    ['missing sections', {}, ['appliance: required', 'firmware: required']],
    [
      'bad sha256',
      { appliance, firmware: { ...firmware, sha256: 'abc' } },
      ['firmware.sha256: must be 64 hexadecimal'],
    ],
    [
      'non-http URL',
      { appliance, firmware: { ...firmware, url: 'file:///etc/passwd' } },
      ['firmware.url: must be an http(s) URL'],
    ],
    [
      'endpoint with /api',
      { appliance: { ...appliance, endpoint: 'https://sps1/api' }, firmware },
      ['appliance.endpoint: must be the base URL'],
    ],
    [
      'credentials in endpoint',
      { appliance: { ...appliance, endpoint: 'https://admin:pw@sps1' }, firmware },
      ['must not contain credentials'],
    ],
    ['bad name', { appliance: { ...appliance, name: '../etc' }, firmware }, ['appliance.name:']],
    ['misspelt option', { appliance, firmware, options: { dryrun: true } }, ['options: unknown field(s) dryrun']],
    [
      'min > max polling',
      { appliance, firmware, options: { polling: { minSeconds: 60, maxSeconds: 30 } } },
      ['options.polling.maxSeconds'],
    ],
    [
      'too many polls',
      { appliance, firmware, options: { polling: { minSeconds: 5 }, timeouts: { fetchMinutes: 600 } } },
      ['options.timeouts.fetchMinutes: must be at most 83 with options.polling.minSeconds 5'],
    ],
    [
      // As a number, 8.10 would be read as 8.1: only a string says which version is meant.
      'a numeric expectedVersion',
      { appliance, firmware: { ...firmware, expectedVersion: 8.1 } },
      ['firmware.expectedVersion: must be a string such as "8.0.1"'],
    ],
    [
      'wrong types',
      { appliance, firmware, options: { dryRun: 'yes', timeouts: { rebootMinutes: -1 } } },
      ['options.dryRun: expected boolean', 'options.timeouts.rebootMinutes'],
    ],
  ])('rejects %s, naming each bad field', (_case, raw, expected) => {
    const message = invalid(firmwareUpgradeInputSchema, raw);
    for (const part of expected) expect(message).toContain(part);
  });

  it('never echoes a bad value', () => {
    const message = invalid(firmwareUpgradeInputSchema, {
      appliance: { ...appliance, credentialsSecretId: 42 },
      firmware: { ...firmware, sha256: 'SECRET-LOOKING-VALUE' },
    });
    expect(message).not.toContain('SECRET-LOOKING-VALUE');
  });
});

describe('support bundle input', () => {
  it('fills in defaults', () => {
    expect(parseInput(supportBundleInputSchema, { appliance })).toEqual({
      appliance,
      archive: { bucket: null, prefix: 'support-bundles/' },
      options: {
        deleteAfterArchive: true,
        polling: { minSeconds: 10, maxSeconds: 300 },
        timeouts: { generateMinutes: 30 },
      },
    });
  });

  it.each([
    ['bad bucket', { appliance, archive: { bucket: 'Bad_Bucket' } }, 'archive.bucket'],
    ['absolute prefix', { appliance, archive: { prefix: '/abs/' } }, 'archive.prefix'],
    ['prefix without slash', { appliance, archive: { prefix: 'bundles' } }, 'archive.prefix'],
    ['unknown option', { appliance, options: { deleteAfter: false } }, 'unknown field(s) deleteAfter'],
  ])('rejects %s', (_case, raw, expected) => {
    expect(invalid(supportBundleInputSchema, raw)).toContain(expected);
  });
});

const SCHEMAS = {
  'firmware-upgrade': firmwareUpgradeInputSchema,
  'support-bundle': supportBundleInputSchema,
  'fleet-run': fleetRunInputSchema,
  'fleet-upgrade': fleetUpgradeInputSchema,
  preflight: preflightInputSchema,
};
const VALID: Record<WorkflowInput, Record<string, unknown>> = {
  'firmware-upgrade': { appliance: 'sps-prod-1', firmware },
  'support-bundle': { appliance: 'sps-prod-1' },
  'fleet-run': { workflow: 'support-bundle' },
  'fleet-upgrade': { firmware },
  preflight: { appliance: 'sps-prod-1' },
};

/** `base` with `value` at the dotted `path` (objects on the way created). */
function withField(base: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  const keys = path.split('.');
  let node = out;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
  return out;
}

/** The problems `Input.Invalid` lists for `raw`, one per entry. */
const problems = (workflow: WorkflowInput, raw: unknown): string[] => {
  try {
    parseInput(SCHEMAS[workflow], raw);
  } catch (err) {
    expect(err).toBeInstanceOf(InputInvalidError);
    return (err as InputInvalidError).problems;
  }
  throw new Error('expected Input.Invalid');
};

describe('Input.Invalid messages', () => {
  // [workflow, mistake, field set, value, the one message: field, rule (and what was wrong, never the value)]
  it.each<[WorkflowInput, string, string, unknown, string]>([
    [
      'firmware-upgrade',
      'a poll too often',
      'options.polling.minSeconds',
      1,
      'options.polling.minSeconds: must be an integer from 5 to 3600 (got a number below 5)',
    ],
    [
      'firmware-upgrade',
      'a poll wait too long',
      'options.polling.maxSeconds',
      7200,
      'options.polling.maxSeconds: must be an integer from 5 to 3600 (got a number above 3600)',
    ],
    [
      'firmware-upgrade',
      'a negative timeout',
      'options.timeouts.rebootMinutes',
      -1,
      'options.timeouts.rebootMinutes: must be an integer from 1 to 240 (got a number below 1)',
    ],
    [
      'firmware-upgrade',
      'a fractional timeout',
      'options.timeouts.fetchMinutes',
      1.5,
      'options.timeouts.fetchMinutes: must be an integer from 1 to 1440 (got a number that is not an integer)',
    ],
    [
      'firmware-upgrade',
      'a timeout as text',
      'options.timeouts.fetchMinutes',
      '90',
      'options.timeouts.fetchMinutes: must be an integer from 1 to 1440 (got a string)',
    ],
    [
      'firmware-upgrade',
      'a huge timeout',
      'options.timeouts.fetchMinutes',
      1e30,
      'options.timeouts.fetchMinutes: must be an integer from 1 to 1440 (got a number above 1440)',
    ],
    [
      'firmware-upgrade',
      'an empty upgrade message',
      'options.upgradeMessage',
      '  ',
      'options.upgradeMessage: must be 1 to 1000 characters (got an empty text)',
    ],
    [
      'firmware-upgrade',
      'a long expected version',
      'firmware.expectedVersion',
      '8'.repeat(65),
      'firmware.expectedVersion: must be a string such as "8.0.1", 1 to 64 characters (got a longer text)',
    ],
    [
      'firmware-upgrade',
      'a yes for a boolean',
      'options.dryRun',
      'yes',
      'options.dryRun: expected boolean (got a string)',
    ],
    ['firmware-upgrade', 'polling as null', 'options.polling', null, 'options.polling: expected object (got null)'],
    [
      'support-bundle',
      'a poll too often',
      'options.polling.minSeconds',
      0,
      'options.polling.minSeconds: must be an integer from 5 to 3600 (got a number below 5)',
    ],
    [
      'support-bundle',
      'a zero timeout',
      'options.timeouts.generateMinutes',
      0,
      'options.timeouts.generateMinutes: must be an integer from 1 to 1440 (got a number below 1)',
    ],
    [
      'support-bundle',
      'a timeout past a day',
      'options.timeouts.generateMinutes',
      1441,
      'options.timeouts.generateMinutes: must be an integer from 1 to 1440 (got a number above 1440)',
    ],
    [
      'support-bundle',
      'a bucket name with capitals',
      'archive.bucket',
      'My_Bucket',
      'archive.bucket: must be an S3 bucket name (lowercase letters, digits, "." and "-", starting and ending with a letter or digit), 3 to 63 characters (got a text that does not match)',
    ],
    [
      'support-bundle',
      'a two-letter bucket',
      'archive.bucket',
      'ab',
      'archive.bucket: must be an S3 bucket name (lowercase letters, digits, "." and "-", starting and ending with a letter or digit), 3 to 63 characters (got a shorter text)',
    ],
    [
      'support-bundle',
      'a prefix without its slash',
      'archive.prefix',
      'bundles',
      'archive.prefix: must be empty or end with "/" (and not start with "/"), at most 512 characters (got a text that does not match)',
    ],
    [
      'support-bundle',
      'an empty secret id',
      'appliance',
      { name: 'sps-1', credentialsSecretId: '' },
      'appliance.credentialsSecretId: must be 1 to 2048 characters (got an empty text)',
    ],
    [
      'support-bundle',
      'a name with a space',
      'appliance',
      'sps 1',
      'appliance.name: must be letters, digits, ".", "_" or "-", starting with a letter or digit, 1 to 63 characters (got a text that does not match)',
    ],
  ])('%s, %s: one message naming the field and its rule', (workflow, _mistake, path, value, expected) => {
    expect(problems(workflow, withField(VALID[workflow], path, value))).toEqual([expected]);
  });

  // Two values set that cannot go together: one message, on the timeout, naming both fields and both ways out.
  it.each<[WorkflowInput, Record<string, unknown>, string]>([
    [
      'firmware-upgrade',
      { polling: { minSeconds: 5 }, timeouts: { fetchMinutes: 600 } },
      'options.timeouts.fetchMinutes: must be at most 83 with options.polling.minSeconds 5 (at most 1000 polls per loop): lower it, or raise options.polling.minSeconds to at least 36',
    ],
    [
      'firmware-upgrade',
      { polling: { minSeconds: 5, maxSeconds: 5 }, timeouts: { fetchMinutes: 600 } },
      'options.timeouts.fetchMinutes: must be at most 83 with options.polling.minSeconds 5 (at most 1000 polls per loop): lower it, or raise options.polling.minSeconds and maxSeconds to at least 36',
    ],
    [
      'firmware-upgrade',
      { polling: { maxSeconds: 30 }, timeouts: { fetchMinutes: 600 } },
      'options.timeouts.fetchMinutes: must be at most 500 with options.polling.maxSeconds 30 (at most 1000 polls per loop): lower it, or raise options.polling.maxSeconds to at least 36',
    ],
    [
      'support-bundle',
      { polling: { minSeconds: 5 }, timeouts: { generateMinutes: 100 } },
      'options.timeouts.generateMinutes: must be at most 83 with options.polling.minSeconds 5 (at most 1000 polls per loop): lower it, or raise options.polling.minSeconds to at least 6',
    ],
    [
      'support-bundle',
      { polling: { minSeconds: 60, maxSeconds: 30 } },
      'options.polling.maxSeconds: must be at least options.polling.minSeconds (got a smaller number)',
    ],
  ])('%s, options %j: one message naming both fields', (workflow, options, expected) => {
    expect(problems(workflow, { ...VALID[workflow], options })).toEqual([expected]);
  });

  it('gives each of several mistakes its own message, and nothing that follows from them', () => {
    expect(
      problems('firmware-upgrade', {
        appliance,
        firmware: { ...firmware, sha256: 'x' },
        options: { polling: { minSeconds: 1 }, timeouts: { rebootMinutes: -5 } },
      }),
    ).toEqual([
      'firmware.sha256: must be 64 hexadecimal characters',
      'options.polling.minSeconds: must be an integer from 5 to 3600 (got a number below 5)',
      'options.timeouts.rebootMinutes: must be an integer from 1 to 240 (got a number below 1)',
    ]);
  });

  it('never repeats a bad value, whatever field holds it', () => {
    const secret = 'Pa55w0rd-PASTED-BY-MISTAKE';
    for (const workflow of ['firmware-upgrade', 'support-bundle'] as const) {
      for (const path of Object.keys(INPUT_LIMITS).filter((p) =>
        INPUT_LIMITS[p as keyof typeof INPUT_LIMITS].workflows.includes(workflow),
      )) {
        const message = problems(workflow, withField(VALID[workflow], path, `${secret} `.repeat(300))).join('; ');
        expect({ path, leaked: message.includes(secret) }).toEqual({ path, leaked: false });
      }
    }
  });
});

describe('INPUT_LIMITS, the one statement of every input limit', () => {
  const rows = Object.entries(INPUT_LIMITS) as Array<[string, InputLimit]>;
  const cases = rows.flatMap(([path, limit]) => limit.workflows.map((workflow) => [workflow, path, limit] as const));
  // The text fields hold patterns: a value of the right length that fits each.
  const fitting = (path: string, length: number) =>
    path === 'archive.prefix' && length > 0 ? `${'p'.repeat(length - 1)}/` : 'a'.repeat(length);
  const valueOf = (path: string, limit: InputLimit, n: number) => (limit.unit === 'characters' ? fitting(path, n) : n);
  const valid = (workflow: WorkflowInput, path: string, value: unknown) =>
    path.startsWith('appliance.')
      ? withField(VALID[workflow], 'appliance', withField({ name: 'sps-1' }, path.slice(10), value))
      : withField(VALID[workflow], path, value);

  it.each(cases)(
    '%s: the schema takes %s from its min to its max, and names the range beyond',
    (workflow, path, limit) => {
      for (const n of [limit.min, limit.max]) {
        expect(() => parseInput(SCHEMAS[workflow], valid(workflow, path, valueOf(path, limit, n)))).not.toThrow();
      }
      const range =
        limit.unit === 'characters'
          ? limit.min === 0
            ? `at most ${limit.max} characters`
            : `${limit.min} to ${limit.max} characters`
          : `an integer from ${limit.min} to ${limit.max}`;
      const beyond = limit.min > 0 ? [limit.min - 1, limit.max + 1] : [limit.max + 1];
      for (const n of beyond) {
        const listed = problems(workflow, valid(workflow, path, valueOf(path, limit, n)));
        expect(listed).toHaveLength(1);
        expect(listed[0]).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')}: must be .*${range}`));
      }
    },
  );

  it.each(cases.filter(([, , limit]) => typeof limit.default === 'number' || limit.default === 'support-bundles/'))(
    '%s: %s left out is its default',
    (workflow, path, limit) => {
      let node: unknown = parseInput(SCHEMAS[workflow], VALID[workflow]);
      for (const key of path.split('.')) node = (node as Record<string, unknown>)[key];
      expect(node).toBe(limit.default);
    },
  );
});

describe('settlePolling: a default never breaks a rule', () => {
  it.each<
    [string, Parameters<typeof settlePolling>[0], ReturnType<typeof settlePolling>['polling'], Record<string, number>]
  >([
    ['nothing set: the defaults', {}, { minSeconds: 10, maxSeconds: 300 }, { fetchMinutes: 120, rebootMinutes: 45 }],
    [
      'minSeconds 5 shortens the default fetchMinutes to 1000 polls',
      { polling: { minSeconds: 5 } },
      { minSeconds: 5, maxSeconds: 300 },
      { fetchMinutes: 83, rebootMinutes: 45 },
    ],
    [
      'maxSeconds 5 lowers the default minSeconds, and so fetchMinutes',
      { polling: { maxSeconds: 5 } },
      { minSeconds: 5, maxSeconds: 5 },
      { fetchMinutes: 83, rebootMinutes: 45 },
    ],
    [
      'minSeconds 600 raises the default maxSeconds',
      { polling: { minSeconds: 600 } },
      { minSeconds: 600, maxSeconds: 600 },
      { fetchMinutes: 120, rebootMinutes: 45 },
    ],
    [
      'fetchMinutes 1440 raises the default minSeconds to 1000 polls',
      { timeouts: { fetchMinutes: 1440 } },
      { minSeconds: 87, maxSeconds: 300 },
      { fetchMinutes: 1440, rebootMinutes: 45 },
    ],
    [
      'values set are kept',
      { polling: { minSeconds: 5, maxSeconds: 5 }, timeouts: { fetchMinutes: 60 } },
      { minSeconds: 5, maxSeconds: 5 },
      { fetchMinutes: 60, rebootMinutes: 45 },
    ],
  ])('%s', (_case, given, polling, timeouts) => {
    expect(settlePolling(given, ['fetchMinutes', 'rebootMinutes'])).toEqual({ polling, timeouts, problems: [] });
  });

  it('accepts every allowed value of one field alone, and keeps every loop within the cap', () => {
    const fields = ['fetchMinutes', 'rebootMinutes', 'generateMinutes'] as const;
    const alone: Array<Parameters<typeof settlePolling>[0]> = [];
    for (const key of ['minSeconds', 'maxSeconds'] as const) {
      const { min, max } = INPUT_LIMITS[`options.polling.${key}`];
      for (let n = min; n <= max; n++) alone.push({ polling: { [key]: n } });
    }
    for (const field of fields) {
      const { min, max } = INPUT_LIMITS[`options.timeouts.${field}`];
      for (let n = min; n <= max; n++) alone.push({ timeouts: { [field]: n } });
    }
    for (const given of alone) {
      const settled = settlePolling(given, fields);
      expect({ given, problems: settled.problems }).toEqual({ given, problems: [] });
      expect(settled.polling.maxSeconds).toBeGreaterThanOrEqual(settled.polling.minSeconds);
      for (const field of fields) {
        const polls = Math.ceil((settled.timeouts[field] * 60) / settled.polling.minSeconds);
        expect({ given, field, within: polls <= MAX_POLLS_PER_LOOP }).toEqual({ given, field, within: true });
      }
    }
  });
});
