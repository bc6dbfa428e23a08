import {
  firmwareUpgradeInputSchema,
  parseInput,
  supportBundleInputSchema,
  unwrapEvent,
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
      freeOldestSlot: false,
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
      ['options.timeouts.fetchMinutes: allows more than 1000 polls'],
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
