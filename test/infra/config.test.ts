import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromContext, parseConfig } from '../../infra/config';
import example from '../../infra/config.example.json';

describe('deployment config', () => {
  it('accepts the documented example and fills in defaults', () => {
    const config = parseConfig(example);
    // No appliance list: the nightly archival covers every registered appliance.
    expect(config).toMatchObject({
      appliances: [],
      preflight: { schedule: 'cron(0 6 ? * MON *)', maxConcurrency: 10, targetVersion: '8.0.1' },
      events: { busName: 'sps-workflows', publishers: [expect.stringMatching(/^arn:aws:iam::/)] },
    });
    expect(parseConfig({})).toMatchObject({
      appliances: [],
      events: { busName: 'sps-workflows', publishers: [] },
      credentialsSecretPrefix: 'sps/',
      archive: { schedule: 'cron(0 2 * * ? *)', prefix: 'support-bundles/' },
    });
  });

  it.each([
    [
      { appliances: [{ name: 'a b', endpoint: 'x', credentialsSecretId: '' }] },
      ['appliances.0.name', 'appliances.0.endpoint', 'appliances.0.credentialsSecretId'],
    ],
    // The workflow input's own appliance schema: what the nightly run would reject fails at synth.
    [
      {
        appliances: [
          { name: 'a', endpoint: 'https://sps1.example.internal/api', credentialsSecretId: 's' },
          { name: 'b', endpoint: 'https://user:pass@sps2.example.internal' },
          { name: 'c', credentialsSecretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:x' },
        ],
      },
      ['appliances.0.endpoint', 'appliances.1.endpoint', 'appliances.2.credentialsSecretId'],
    ],
    [{ archive: { schedule: 'every night' } }, ['archive.schedule']],
    [{ archive: { coldStorageDays: 90, expireDays: 30 } }, ['archive.expireDays']],
    [
      { network: { vpcId: 'vpc-1', subnetIds: [], securityGroupIds: ['sg-1'] } },
      ['network.vpcId', 'network.subnetIds', 'network.securityGroupIds.0'],
    ],
    [{ notifications: { email: 'not-an-email' } }, ['notifications.email']],
    [{ kmsKeyArn: 'key-1' }, ['kmsKeyArn']],
    [{ appliance: [] }, ['(root)']],
    [
      {
        appliances: [
          { name: 'a', endpoint: 'https://a', credentialsSecretId: 's' },
          { name: 'a', endpoint: 'https://b', credentialsSecretId: 't' },
        ],
      },
      ['appliances.1.name'],
    ],
  ])('rejects %j naming each bad field', (raw, fields) => {
    let message = '';
    try {
      parseConfig(raw);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const f of fields) expect(message).toContain(f);
  });

  it('reads a config file named by the context, or the inline context object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ archive: { prefix: 'b/' } }));
    expect(configFromContext((k) => (k === 'configFile' ? file : undefined)).archive.prefix).toBe('b/');
    expect(
      configFromContext((k) => (k === 'spsWorkflows' ? { credentialsSecretPrefix: 'x/' } : undefined))
        .credentialsSecretPrefix,
    ).toBe('x/');
    expect(() => configFromContext((k) => (k === 'configFile' ? join(dir, 'missing.json') : undefined))).toThrow(
      /Cannot read/,
    );
    rmSync(dir, { recursive: true });
  });
});
