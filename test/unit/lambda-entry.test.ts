import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';

/* The deployed entry points: AWS wiring, and the archiver's S3 settings from its environment. */

const sm = mockClient(SecretsManagerClient);

describe('Lambda entry points', () => {
  beforeEach(() => sm.reset());

  it('validate-input answers with the normalized input, and Input.Invalid by name', async () => {
    const { handler } = await import('../../lambdas/handlers/validate-input');
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ endpoint: 'https://sps1', username: 'u', password: 'p' }),
    });
    await expect(handler({ workflow: 'support-bundle', input: { appliance: 'sps-1' } })).resolves.toMatchObject({
      appliance: { name: 'sps-1', endpoint: 'https://sps1', credentialsSecretId: 'sps/sps-1' },
      archive: { bucket: null, prefix: 'support-bundles/' },
    });
    await expect(handler({ workflow: 'support-bundle', input: {} })).rejects.toMatchObject({ name: 'Input.Invalid' });
  });

  it('the archiver gets the bucket of its environment, and reads credentials from Secrets Manager', async () => {
    process.env.ARCHIVE_BUCKET = 'stack-archive-bucket';
    sm.on(GetSecretValueCommand).resolves({
      SecretString: JSON.stringify({ endpoint: 'https://127.0.0.1:9', username: 'u', password: 'p' }),
    });
    const { handler } = await import('../../lambdas/handlers/archive-support-bundle');
    // An unreachable appliance (port 9 on loopback is closed): the call fails after the bucket was
    // resolved and the secret read, proving the wiring without any AWS.
    const failure = await handler({
      appliance: { name: 'sps-1', endpoint: 'https://127.0.0.1:9', credentialsSecretId: 'sps/sps-1' },
      key: 'k',
      requestedAt: Date.parse('2026-11-22T12:00:00Z'),
      fileName: null,
      bucket: null,
      prefix: 'support-bundles/',
    }).catch((e: unknown) => e as Error);
    expect(failure).toMatchObject({ name: 'Sps.ConnectionError' });
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toContain('sps/sps-1');
    delete process.env.ARCHIVE_BUCKET;
  });

  it('writes the figures an invocation adds as CloudWatch EMF in its own logs', async () => {
    const lines: string[] = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const log = jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      const { handler } = await import('../../lambdas/handlers/report-fleet-run');
      await handler({
        workflow: 'support-bundle',
        executionId: 'arn:aws:states:eu-west-1:123456789012:execution:x:y',
        results: [{ appliance: 'sps-1', run: { status: 'SUCCEEDED' } }],
        unregistered: [],
      });
    } finally {
      write.mockRestore();
      log.mockRestore();
    }
    const emf = lines
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> }; Workflow: string });
    expect(
      emf.map((m) => [
        m._aws.CloudWatchMetrics[0]!.Namespace,
        m.Workflow,
        Object.keys(m).filter((k) => k.startsWith('Fleet')),
      ]),
    ).toEqual([
      ['SpsWorkflows', 'support-bundle', ['FleetAppliancesSucceeded']],
      ['SpsWorkflows', 'support-bundle', ['FleetAppliancesFailed']],
    ]);
  });
});
