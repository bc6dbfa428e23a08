import type { Readable } from 'node:stream';
import { CopyObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { errorText, NamedError } from './errors';
import { PART_SIZE, PartWriter } from './part-writer';

/** CopyObject's limit: larger objects keep their sha256 in the workflow output only. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;

/**
 * The S3 client for archives. On AWS (no endpoint) the SDK defaults apply; an S3-compatible
 * endpoint (s3rver, MinIO) needs path-style addressing and checksums only where required: with
 * default checksums a streamed upload to such a server can be stored with the aws-chunked framing
 * as data, silently corrupt. Everywhere, parts go out without `Expect: 100-continue`: waiting a
 * round trip for the server's go-ahead before every 8 MiB part cost a fifth of the upload
 * throughput (bench), and the only answers it saves a body for (403, 301) fail the archive anyway.
 */
export function s3Client(endpoint?: string, extra: S3ClientConfig = {}): S3Client {
  const client = new S3Client({
    expectContinueHeader: false,
    // Without these a stalled connection would hold the archive until the function's timeout,
    // which is not retried; a timed-out request is retried by the SDK like any transient error.
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
    ...(endpoint
      ? {
          endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
    ...extra,
  });
  if (!endpoint || transportProtectsPayload(endpoint)) {
    // Signing a part's payload costs one more SHA-256 pass over every byte. Where TLS (or the
    // loopback interface) already protects it, sign the headers only: the archiver hashes the
    // whole stream itself and checks the stored size.
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        // Never replace a value set by the SDK (a streaming checksum trailer, for example).
        if (request.headers && !request.headers['x-amz-content-sha256']) {
          request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        }
        return next(args);
      },
      { step: 'build', name: 'spsUnsignedPayload' },
    );
  }
  return client;
}

function transportProtectsPayload(endpoint: string): boolean {
  const url = new URL(endpoint);
  return url.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

export interface ArchiveRequest {
  source: Readable;
  /** The Content-Length the appliance announced, when it did. */
  expectedBytes: number | undefined;
  bucket: string;
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  /** `aws:kms` with a key id, or S3-managed AES256 (the default). */
  kmsKeyId?: string;
  /** Called with the bytes read so far, about every 8 MiB and at the end. */
  onProgress?(bytes: number): void;
}

export interface ArchiveResult {
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  versionId: string | null;
}

/**
 * The download broke or the upload failed: nothing was stored, or the object is unproven, and
 * the whole archive may be retried (`S3.ArchiveFailed`). When S3 refused the request itself
 * (access denied, no such bucket), a retry would only download the bundle again to be refused
 * again: `S3.ArchiveRejected`, which the state machine does not retry.
 */
export class ArchiveError extends NamedError {
  constructor(message: string, cause?: unknown) {
    super(refusedByS3(cause) ? 'S3.ArchiveRejected' : 'S3.ArchiveFailed', message, { cause });
  }
}

function refusedByS3(err: unknown): boolean {
  const { name, $metadata } = (err ?? {}) as { name?: string; $metadata?: { httpStatusCode?: number } };
  return $metadata?.httpStatusCode === 403 || name === 'NoSuchBucket';
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `<yyyy>/<mm>/<dd>` and `<yyyymmddThhmmssZ>` of `at` (UTC): how stored objects are dated. */
export function utcDated(at: Date): { path: string; stamp: string } {
  const [y, m, d] = [at.getUTCFullYear(), pad(at.getUTCMonth() + 1), pad(at.getUTCDate())];
  return {
    path: `${y}/${m}/${d}`,
    stamp: `${y}${m}${d}T${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}Z`,
  };
}

/** The objects' server-side encryption: the customer key when there is one, else S3-managed. */
export function encryption(kmsKeyId: string | undefined) {
  return kmsKeyId
    ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId }
    : { ServerSideEncryption: 'AES256' as const };
}

/**
 * Streams `source` into S3 with a multipart upload, hashing on the fly: memory stays at about
 * PART_SIZE × (QUEUE_SIZE + 1) whatever the size, and nothing touches the disk. A source that
 * breaks or ends short, or a failed part, aborts the multipart upload, so no partial object and
 * no orphaned parts remain; the error is `S3.ArchiveFailed` (retryable as a whole) or, when S3
 * refused the request itself, `S3.ArchiveRejected`. The stored object's size is checked and its
 * sha256 added to its metadata before success is reported; a failure there fails the archive the
 * same way.
 */
export async function archiveToS3(s3: S3Client, req: ArchiveRequest): Promise<ArchiveResult> {
  const writer = new PartWriter(s3, {
    Bucket: req.bucket,
    Key: req.key,
    ContentType: req.contentType,
    Metadata: req.metadata,
    ...encryption(req.kmsKeyId),
  });
  let reported = 0;
  let sha256: string;
  try {
    for await (const chunk of req.source as AsyncIterable<Buffer>) {
      await writer.write(chunk);
      if (req.onProgress && writer.bytes - reported >= PART_SIZE) req.onProgress((reported = writer.bytes));
    }
    if (writer.bytes !== reported) req.onProgress?.(writer.bytes);
    if (req.expectedBytes !== undefined && writer.bytes !== req.expectedBytes) {
      throw new ArchiveError(`download ended after ${writer.bytes} of ${req.expectedBytes} bytes`);
    }
    sha256 = await writer.finish();
  } catch (err) {
    req.source.destroy();
    const leftOver = await writer.abort();
    const reason =
      err instanceof ArchiveError
        ? err.message
        : `archiving to s3://${req.bucket}/${req.key} failed: ${errorText(err)}`;
    throw new ArchiveError(leftOver ? `${reason}; ${leftOver}` : reason, err);
  }
  const { bytes } = writer;
  try {
    return { bucket: req.bucket, key: req.key, bytes, sha256, versionId: await verifyAndLabel(s3, req, bytes, sha256) };
  } catch (err) {
    // The object exists but is unproven: the whole archive is retried and writes the same key again.
    if (err instanceof ArchiveError) throw err;
    throw new ArchiveError(
      `s3://${req.bucket}/${req.key} was stored but could not be verified: ${errorText(err)}`,
      err,
    );
  }
}

/**
 * Checks the stored object's size with HeadObject, then adds its sha256 to its metadata (the hash
 * is known only once the stream has ended): a server-side copy of the object onto itself, so
 * `head-object` shows everything needed to verify the bundle. Returns the object's version id.
 */
async function verifyAndLabel(s3: S3Client, req: ArchiveRequest, bytes: number, sha256: string) {
  const head = await s3.send(new HeadObjectCommand({ Bucket: req.bucket, Key: req.key }));
  if (head.ContentLength !== bytes) {
    throw new ArchiveError(`s3://${req.bucket}/${req.key} holds ${head.ContentLength} bytes, ${bytes} were sent`);
  }
  if (bytes > MAX_COPY_BYTES) return head.VersionId ?? null;
  const copied = await s3.send(
    new CopyObjectCommand({
      Bucket: req.bucket,
      Key: req.key,
      CopySource: `${req.bucket}/${encodeURIComponent(req.key).replace(/%2F/g, '/')}`,
      MetadataDirective: 'REPLACE',
      ContentType: req.contentType,
      Metadata: { ...req.metadata, sha256 },
      ...encryption(req.kmsKeyId),
    }),
  );
  return copied.VersionId ?? head.VersionId ?? null;
}
