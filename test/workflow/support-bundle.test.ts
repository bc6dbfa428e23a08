import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { causeMessage, type RunResult } from '../../local/engine/engine';
import type { ApplianceOptions } from '../../local/simulator';
import {
  BUCKET,
  bundleInput,
  expectNoSecrets,
  failFirstCopy,
  failSecondPart,
  startHarness,
  type Harness,
} from '../helpers/workflow';

/*
 * The real support-bundle ASL in the local engine, the real handlers, the simulator over HTTPS and
 * an S3-protocol server (s3rver). Each test checks the end, the appliance's journal and bundles,
 * what S3 holds (no partial object, no orphaned multipart upload), and the secret scan.
 */

const MiB = 1024 * 1024;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function run(appliance: Partial<ApplianceOptions> = {}, extra: Parameters<typeof bundleInput>[1] = {}) {
  h = await startHarness([{ name: 'sps-sim-1', ...appliance }], { s3: true });
  const result = await h.run('support-bundle', bundleInput(h, extra));
  expectNoSecrets(h, result);
  return {
    h,
    result,
    s3: h.s3!,
    calls: h.sim.journal.entries().map((e) => `${e.method} ${e.path.replace(/[0-9a-f-]{36}/, '<key>')} ${e.status}`),
  };
}

const expectFailure = (result: RunResult, error: string, causePart?: RegExp) => {
  expect({ status: result.status, error: result.error }).toEqual({ status: 'FAILED', error });
  if (causePart) expect(causeMessage(result.cause)).toMatch(causePart);
};

/** The statuses of the bundle jobs left on the simulated appliance. */
const bundleStatuses = (harness: Harness) =>
  harness.sim
    .appliance('sps-sim-1')
    .state()
    .bundles.map((b) => b.status);

async function storedSha256(harness: Harness, key: string): Promise<string> {
  const obj = await harness.s3!.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return createHash('sha256')
    .update(Buffer.from(await obj.Body!.transformToByteArray()))
    .digest('hex');
}

describe('support bundle archival', () => {
  it('archives the bundle intact, with metadata, then removes it from the appliance', async () => {
    const { h, result, s3, calls } = await run({ bundleBytes: 20 * MiB + 7 });
    expect(result.status).toBe('SUCCEEDED');
    const out = result.output as {
      appliance: string;
      bundleKey: string;
      bucket: string;
      key: string;
      bytes: number;
      sha256: string;
      fileName: string;
    };
    const expected = h.sim.appliance('sps-sim-1').expectedBundle(out.bundleKey);
    expect(out).toEqual({
      appliance: 'sps-sim-1',
      bundleKey: out.bundleKey,
      bucket: BUCKET,
      key: expect.stringMatching(
        new RegExp(`^support-bundles/sps-sim-1/\\d{4}/\\d{2}/\\d{2}/\\d{8}T\\d{6}Z-${out.bundleKey}-debug_info\\.zip$`),
      ),
      bytes: expected.bytes,
      sha256: expected.sha256,
      fileName: expected.fileName,
    });
    await expect(storedSha256(h, out.key)).resolves.toBe(expected.sha256);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: out.key }));
    expect(head.ContentType).toBe('application/zip');
    expect(head.Metadata).toMatchObject({
      appliance: 'sps-sim-1',
      'bundle-key': out.bundleKey,
      sha256: expected.sha256,
      'firmware-version': '7.5.1',
    });
    expect(head.Metadata?.['execution-id']).toMatch(/^arn:aws:states:/);
    expect(s3.orphanUploads()).toEqual([]);
    // Deleted only after the download: and gone from the appliance.
    expect(calls.indexOf('DELETE /api/troubleshooting/support-bundle/<key> 200')).toBeGreaterThan(
      calls.indexOf('GET /api/troubleshooting/support-bundle/<key>/download 200'),
    );
    expect(h.sim.appliance('sps-sim-1').state().bundles).toEqual([]);
  });

  it('honours archive.prefix and the key shape', async () => {
    const { result } = await run({}, { archive: { prefix: 'nightly/' } });
    expect((result.output as { key: string }).key).toMatch(/^nightly\/sps-sim-1\/\d{4}\/\d{2}\/\d{2}\//);
  });

  it('fails with Sps.BundleFailed, removes the failed job and stores nothing', async () => {
    const { h, result, s3, calls } = await run({ scenario: 'bundle-fails' });
    expectFailure(result, 'Sps.BundleFailed', /Timeout expired while waiting for creation of support-bundle/);
    expect(calls).toContain('DELETE /api/troubleshooting/support-bundle/<key> 200');
    expect(calls.some((c) => c.includes('/download'))).toBe(false);
    expect(h.sim.appliance('sps-sim-1').state().bundles).toEqual([]);
    await expect(s3.objects()).resolves.toEqual([]);
  });

  it('archives its own job when another one is already running, and leaves the other alone', async () => {
    h = await startHarness([{ name: 'sps-sim-1', scenario: 'busy-bundle-queue' }], { s3: true });
    const other = h.sim.appliance('sps-sim-1').state().bundles[0]!;
    const result = await h.run('support-bundle', bundleInput(h));
    expectNoSecrets(h, result);
    const out = result.output as { bundleKey: string; sha256: string };
    expect(out.bundleKey).not.toBe(other.key);
    expect(out.sha256).toBe(h.sim.appliance('sps-sim-1').expectedBundle(out.bundleKey).sha256);
    expect(
      h.sim
        .appliance('sps-sim-1')
        .state()
        .bundles.map((b) => b.key),
    ).toEqual([other.key]);
    const touched = h.sim.journal.entries().filter((e) => e.path.includes(other.key));
    expect(touched).toEqual([]);
  });

  it('retries a truncated download and stores a correct object, leaving no orphaned upload', async () => {
    const { h, result, s3, calls } = await run({ scenario: 'truncated-download', bundleBytes: 20 * MiB });
    expect(result.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.includes('/download'))).toEqual([
      'GET /api/troubleshooting/support-bundle/<key>/download truncated',
      'GET /api/troubleshooting/support-bundle/<key>/download 200',
    ]);
    const out = result.output as { key: string; bundleKey: string };
    await expect(storedSha256(h, out.key)).resolves.toBe(
      h.sim.appliance('sps-sim-1').expectedBundle(out.bundleKey).sha256,
    );
    expect(await s3.objects()).toHaveLength(1);
    expect(s3.orphanUploads()).toEqual([]);
    expect(result.events.filter((e) => e.type === 'StateRetried' && e.state?.name === 'Archive')).toHaveLength(1);
  });

  it('retries a failed check of the stored object under the same key: one object, labelled, then the bundle removed', async () => {
    h = await startHarness([{ name: 'sps-sim-1', bundleBytes: 20 * MiB }], { s3: true });
    failFirstCopy(h);
    const result = await h.run('support-bundle', bundleInput(h));
    expectNoSecrets(h, result);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.events.filter((e) => e.type === 'StateRetried' && e.state?.name === 'Archive')).toHaveLength(1);
    const out = result.output as { key: string; bundleKey: string; sha256: string };
    expect((await h.s3!.objects()).map((o) => o.key)).toEqual([out.key]);
    const head = await h.s3!.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: out.key }));
    expect(head.Metadata?.sha256).toBe(h.sim.appliance('sps-sim-1').expectedBundle(out.bundleKey).sha256);
    expect(bundleStatuses(h)).toEqual([]);
  });

  it('aborts on an S3 failure mid-upload: nothing stored and the bundle NOT deleted', async () => {
    h = await startHarness([{ name: 'sps-sim-1', bundleBytes: 20 * MiB }], { s3: true });
    failSecondPart(h);
    const result = await h.run('support-bundle', bundleInput(h));
    expectNoSecrets(h, result);
    expectFailure(result, 'S3.ArchiveFailed', /InternalError/);
    await expect(h.s3!.objects()).resolves.toEqual([]);
    expect(h.s3!.orphanUploads()).toEqual([]);
    expect(h.sim.journal.entries().some((e) => e.method === 'DELETE')).toBe(false);
    expect(bundleStatuses(h)).toEqual(['finished']);
  });

  it('does not retry when S3 refuses the archive (access denied): one download, nothing stored, the bundle kept', async () => {
    h = await startHarness([{ name: 'sps-sim-1', bundleBytes: 20 * MiB }], { s3: true });
    failSecondPart(h, { name: 'AccessDenied', message: 'Access Denied', $metadata: { httpStatusCode: 403 } });
    const result = await h.run('support-bundle', bundleInput(h));
    expectNoSecrets(h, result);
    expectFailure(result, 'S3.ArchiveRejected', /AccessDenied: Access Denied/);
    expect(result.events.some((e) => e.type === 'StateRetried' && e.state?.name === 'Archive')).toBe(false);
    expect(h.sim.journal.entries().filter((e) => e.path.endsWith('/download'))).toHaveLength(1);
    await expect(h.s3!.objects()).resolves.toEqual([]);
    expect(h.s3!.orphanUploads()).toEqual([]);
    expect(bundleStatuses(h)).toEqual(['finished']);
  });

  it('logs in again when the session expires during polling', async () => {
    const { result, calls } = await run({ scenario: 'session-expires' });
    expect(result.status).toBe('SUCCEEDED');
    expect(calls.filter((c) => c.startsWith('GET /api/authentication')).length).toBeGreaterThan(1);
  });

  it('keeps the bundle on the appliance with deleteAfterArchive: false', async () => {
    const { h, result, calls } = await run({}, { options: { deleteAfterArchive: false } });
    expect(result.status).toBe('SUCCEEDED');
    expect(calls.some((c) => c.startsWith('DELETE'))).toBe(false);
    expect(bundleStatuses(h)).toEqual(['finished']);
  });

  it('answers both shapes of the create response', async () => {
    const { result } = await run({ bundleCreateResponse: 'key' });
    expect(result.status).toBe('SUCCEEDED');
  });

  it('fails with Sps.Timeout and removes the job when generation outlasts generateMinutes', async () => {
    const { h, result } = await run({ bundleGenerateSeconds: 3600 }, { options: { timeouts: { generateMinutes: 5 } } });
    expectFailure(result, 'Sps.Timeout', /not ready in time/);
    expect(h.sim.appliance('sps-sim-1').state().bundles).toEqual([]);
  });

  it.each([
    ['no appliance', {}, 'appliance: required'],
    ['bad bucket', { archive: { bucket: 'Not_A_Bucket' } }, 'archive.bucket'],
    ['absolute prefix', { archive: { prefix: '/root/' } }, 'archive.prefix'],
    ['misspelt option', { options: { deleteAfter: false } }, 'unknown field(s) deleteAfter'],
    ['zero timeout', { options: { timeouts: { generateMinutes: 0 } } }, 'options.timeouts.generateMinutes'],
  ])('rejects bad input (%s) with Input.Invalid before any request', async (_case, patch, field) => {
    h = await startHarness([{ name: 'sps-sim-1' }], { s3: true });
    const input = _case === 'no appliance' ? patch : { ...bundleInput(h), ...patch };
    const result = await h.run('support-bundle', input);
    expectFailure(result, 'Input.Invalid', new RegExp(field.replace(/[.()]/g, '\\$&')));
    expect(h.sim.journal.entries()).toEqual([]);
  });
});
