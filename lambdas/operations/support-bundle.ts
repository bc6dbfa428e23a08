import * as z from 'zod/mini';
import { archiveToS3 } from '../shared/archive';
import { NamedError, SpsApiError } from '../shared/errors';
import { applianceSchema } from '../shared/input';
import { operation } from '../shared/operation';
import { nonEmpty, positive, positiveInt } from '../shared/zod';
import { nextBackoffSeconds } from '../shared/polling';
import type { SupportBundle } from '../shared/sps/schemas';

/*
 * The support-bundle operations, one Lambda each. The archive step is the only one that moves
 * data: it streams the download into S3 and never holds the bundle in memory or on disk.
 */

const base = { appliance: applianceSchema, executionId: z.optional(z.string()) };
const pollingSchema = z.object({ minSeconds: positiveInt(), maxSeconds: positiveInt() });

/**
 * Lists the jobs, POSTs a new one and returns the key that was not there before: another job may
 * already be running (SPS queues the new one behind it).
 */
export const createSupportBundle = operation(
  'create-support-bundle',
  z.object({ ...base, generateMinutes: positive() }),
  async ({ appliance, generateMinutes }, ctx) => {
    const sps = await ctx.sps(appliance);
    const before = new Set((await sps.listSupportBundles()).map((b) => b.key));
    const answered = await sps.createSupportBundle();
    let key = before.has(answered) ? undefined : answered;
    if (!key) {
      const fresh = (await sps.listSupportBundles()).filter((b) => !before.has(b.key));
      if (fresh.length !== 1) {
        throw new NamedError(
          'Sps.BundleFailed',
          `Cannot tell which support bundle job ${appliance.name} created (${fresh.length} new jobs)`,
        );
      }
      key = fresh[0]!.key;
    }
    ctx.log.info('support bundle requested', { key, jobsAlreadyThere: before.size });
    return { key, deadline: ctx.now() + generateMinutes * 60_000, progress: {} };
  },
);

/**
 * `GET …/support-bundle/<key>`: `failed` ends in `Sps.BundleFailed` with the appliance's error
 * text at once; past the deadline, `Sps.Timeout`. Bundles report no progress, so the wait backs
 * off from the minimum.
 */
export const getSupportBundleStatus = operation(
  'get-support-bundle-status',
  z.object({
    ...base,
    key: nonEmpty(),
    deadline: z.number(),
    polling: pollingSchema,
    previous: z.optional(z.partial(z.object({ nextPollSeconds: z.number() }))),
  }),
  async ({ appliance, key, deadline, polling, previous }, ctx) => {
    let bundle: SupportBundle;
    try {
      bundle = await (await ctx.sps(appliance)).getSupportBundle(key);
    } catch (err) {
      if (err instanceof SpsApiError && err.name === 'Sps.NotFound') {
        throw new NamedError('Sps.BundleFailed', `Support bundle job ${key} disappeared from ${appliance.name}`);
      }
      throw err;
    }
    if (bundle.status === 'failed') {
      throw new NamedError(
        'Sps.BundleFailed',
        `Support bundle ${key} failed on ${appliance.name}: ${bundle.error ?? bundle.info ?? 'no error text'}`,
      );
    }
    if (bundle.status !== 'finished' && ctx.now() > deadline) {
      throw new NamedError(
        'Sps.Timeout',
        `Support bundle ${key} on ${appliance.name} was not ready in time (${bundle.status})`,
      );
    }
    return {
      key,
      status: bundle.status,
      fileName: bundle.fileName,
      nextPollSeconds: bundle.status === 'finished' ? 0 : nextBackoffSeconds(polling, previous?.nextPollSeconds),
    };
  },
);

const pad = (n: number) => String(n).padStart(2, '0');

/** `<prefix><appliance>/<yyyy>/<mm>/<dd>/<yyyymmddThhmmssZ>-<file_name>` (UTC). */
export function archiveKey(prefix: string, applianceName: string, fileName: string, at: Date): string {
  const [y, m, d] = [at.getUTCFullYear(), pad(at.getUTCMonth() + 1), pad(at.getUTCDate())];
  const stamp = `${y}${m}${d}T${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}Z`;
  const safeName = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${prefix}${applianceName}/${y}/${m}/${d}/${stamp}-${safeName}`;
}

/**
 * Streams the finished bundle into S3 (multipart, SHA-256 on the fly). A truncated or broken
 * download, or a failed upload, aborts the multipart upload and fails with the retryable
 * `S3.ArchiveFailed`; the state machine retries the whole step.
 */
export const archiveSupportBundle = operation(
  'archive-support-bundle',
  z.object({
    ...base,
    key: nonEmpty(),
    fileName: z.nullable(nonEmpty()),
    bucket: z.nullish(z.string().check(z.minLength(3))),
    prefix: z.string(),
    firmwareVersion: z.nullish(z.string()),
  }),
  async ({ appliance, key, fileName, bucket, prefix, firmwareVersion, executionId }, ctx) => {
    const target = bucket ?? ctx.deps.archive?.defaultBucket;
    if (!target || !ctx.deps.archive) {
      throw new NamedError(
        'Input.Invalid',
        'Invalid input: archive.bucket: required (this deployment has no default bucket)',
      );
    }
    const name = fileName ?? `${key}-debug_info.zip`;
    const objectKey = archiveKey(prefix, appliance.name, name, new Date(ctx.now()));
    const download = await (await ctx.sps(appliance)).downloadSupportBundle(key);
    ctx.log.info('archiving support bundle', { key, bucket: target, objectKey, bytes: download.contentLength });
    const stored = await archiveToS3(ctx.deps.archive.s3, {
      source: download.body,
      expectedBytes: download.contentLength,
      bucket: target,
      key: objectKey,
      contentType: 'application/zip',
      kmsKeyId: ctx.deps.archive.kmsKeyId,
      onProgress: (done) =>
        ctx.deps.progress?.({ label: 'support bundle download', done, total: download.contentLength }),
      metadata: {
        appliance: appliance.name,
        'firmware-version': firmwareVersion ?? 'unknown',
        'bundle-key': key,
        'execution-id': executionId ?? 'unknown',
      },
    });
    return { ...stored, fileName: name, verified: true };
  },
);

/** Removes the bundle (or cancels its generation); one that is already gone is fine. */
export const deleteSupportBundle = operation(
  'delete-support-bundle',
  z.object({ ...base, key: nonEmpty() }),
  async ({ appliance, key }, ctx) => {
    try {
      await (await ctx.sps(appliance)).deleteSupportBundle(key);
      return { key, deleted: true };
    } catch (err) {
      if (err instanceof SpsApiError && err.name === 'Sps.NotFound') return { key, deleted: false };
      throw err;
    }
  },
);
