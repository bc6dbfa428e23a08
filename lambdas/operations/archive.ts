import * as z from 'zod/mini';
import { archiveToS3, utcDated } from '../shared/archive';
import { NamedError } from '../shared/errors';
import { applianceSchema } from '../shared/input';
import { spsOperation } from '../shared/sps-operation';
import { nonEmpty } from '../shared/zod';

/** `<prefix><appliance>/<yyyy>/<mm>/<dd>/<yyyymmddThhmmssZ>-<file_name>` (UTC). */
export function archiveKey(prefix: string, applianceName: string, fileName: string, at: Date): string {
  const { path, stamp } = utcDated(at);
  const safeName = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${prefix}${applianceName}/${path}/${stamp}-${safeName}`;
}

/**
 * Streams the finished bundle into S3 (multipart, SHA-256 on the fly). A truncated or broken
 * download, or a failed upload, aborts the multipart upload and fails with the retryable
 * `S3.ArchiveFailed`; the state machine retries the whole step, which writes the same key again.
 */
export const archiveSupportBundle = spsOperation(
  'archive-support-bundle',
  z.object({
    appliance: applianceSchema,
    executionId: z.optional(z.string()),
    key: nonEmpty(),
    /**
     * When the bundle was requested (epoch ms): it dates the S3 key, the same on every retry.
     * Optional for executions started by an earlier version of the state machine.
     */
    requestedAt: z.optional(z.number()),
    fileName: z.nullable(nonEmpty()),
    bucket: z.nullish(z.string().check(z.minLength(3))),
    prefix: z.string(),
    firmwareVersion: z.nullish(z.string()),
  }),
  async ({ appliance, key, requestedAt, fileName, bucket, prefix, firmwareVersion, executionId }, ctx) => {
    const target = bucket ?? ctx.deps.archive.defaultBucket;
    if (!target) {
      throw new NamedError(
        'Input.Invalid',
        'Invalid input: archive.bucket: required (this deployment has no default bucket)',
      );
    }
    const name = fileName ?? `${key}-debug_info.zip`;
    const objectKey = archiveKey(prefix, appliance.name, name, new Date(requestedAt ?? ctx.now()));
    const startedAt = ctx.now();
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
    ctx.deps.metrics?.add('ArchivedBytes', 'Bytes', stored.bytes);
    ctx.deps.metrics?.add('ArchiveSeconds', 'Seconds', (ctx.now() - startedAt) / 1000);
    return { ...stored, fileName: name };
  },
  ['archive'],
);
