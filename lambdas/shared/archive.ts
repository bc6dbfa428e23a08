import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { CopyObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NamedError } from './errors';

export const PART_SIZE = 8 * 1024 * 1024;
/** CopyObject's limit: larger objects keep their sha256 in the workflow output only. */
const MAX_COPY_BYTES = 5 * 1024 ** 3;
export const QUEUE_SIZE = 3;

/**
 * The S3 client for archives. On AWS (no endpoint) the SDK defaults apply; an S3-compatible
 * endpoint (s3rver, MinIO) needs path-style addressing and checksums only where required: with
 * default checksums a streamed upload to such a server can be stored with the aws-chunked framing
 * as data, silently corrupt.
 */
export function s3Client(endpoint?: string, extra: S3ClientConfig = {}): S3Client {
  const client = endpoint
    ? new S3Client({
        endpoint,
        forcePathStyle: true,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...extra,
      })
    : new S3Client(extra);
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

/** The download broke or the upload failed: nothing was stored, the whole archive may be retried. */
export class ArchiveError extends NamedError {
  constructor(message: string, cause?: unknown) {
    super('S3.ArchiveFailed', message, { cause });
  }
}

function encryption(kmsKeyId: string | undefined) {
  return kmsKeyId
    ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: kmsKeyId }
    : { ServerSideEncryption: 'AES256' as const };
}

/** Counts and hashes what flows through; fails at the end when less arrived than announced. */
function hashingCounter(expectedBytes: number | undefined, onProgress?: (bytes: number) => void) {
  const hash = createHash('sha256');
  const state = { bytes: 0, sha256: '' };
  let reported = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      state.bytes += chunk.length;
      if (onProgress && state.bytes - reported >= PART_SIZE) onProgress((reported = state.bytes));
      done(null, chunk);
    },
    flush(done) {
      if (state.bytes !== reported) onProgress?.(state.bytes);
      if (expectedBytes !== undefined && state.bytes !== expectedBytes) {
        done(new ArchiveError(`download ended after ${state.bytes} of ${expectedBytes} bytes`));
        return;
      }
      state.sha256 = hash.digest('hex');
      done();
    },
  });
  return { stream, state };
}

/**
 * Streams `source` into S3 with a multipart upload, hashing on the fly: memory stays at about
 * PART_SIZE × (QUEUE_SIZE + 1) whatever the size, and nothing touches the disk. A source that
 * breaks or ends short, or a failed part, aborts the multipart upload, so no partial object and
 * no orphaned parts remain; the error is `S3.ArchiveFailed` (retryable as a whole). The stored
 * object's size is checked with HeadObject before success is reported, then its sha256 is
 * added to its metadata.
 */
export async function archiveToS3(s3: S3Client, req: ArchiveRequest): Promise<ArchiveResult> {
  const counter = hashingCounter(req.expectedBytes, req.onProgress);
  const body = counter.stream;
  const upload = new Upload({
    client: s3,
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    leavePartsOnError: false,
    params: {
      Bucket: req.bucket,
      Key: req.key,
      Body: body,
      ContentType: req.contentType,
      Metadata: req.metadata,
      ...encryption(req.kmsKeyId),
    },
  });
  const streaming = pipeline(req.source, counter.stream);
  const uploading = upload.done();
  try {
    await Promise.all([streaming, uploading]);
  } catch (err) {
    // Whichever side failed first, stop both. A failed body makes the upload abort its multipart
    // upload before `done()` settles, so once both settle no parts are left behind.
    const stop = err instanceof Error ? err : new Error(String(err));
    req.source.destroy(stop);
    body.destroy(stop);
    await Promise.allSettled([streaming, uploading]);
    if (err instanceof ArchiveError) throw err;
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new ArchiveError(`archiving to s3://${req.bucket}/${req.key} failed: ${reason}`, err);
  }
  const { bytes, sha256 } = counter.state;
  const head = await s3.send(new HeadObjectCommand({ Bucket: req.bucket, Key: req.key }));
  if (head.ContentLength !== bytes) {
    throw new ArchiveError(`s3://${req.bucket}/${req.key} holds ${head.ContentLength} bytes, ${bytes} were sent`);
  }
  let versionId = head.VersionId ?? null;
  if (bytes <= MAX_COPY_BYTES) {
    // The hash is known only once the stream has ended: copy the object onto itself (server side)
    // to add it to the metadata, so `head-object` shows everything needed to verify the bundle.
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
    versionId = copied.VersionId ?? versionId;
  }
  return { bucket: req.bucket, key: req.key, bytes, sha256, versionId };
}
