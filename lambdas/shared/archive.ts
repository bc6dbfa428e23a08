import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
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

interface Target {
  Bucket: string;
  Key: string;
  ContentType: string;
  Metadata: Record<string, string>;
  ServerSideEncryption: 'aws:kms' | 'AES256';
  SSEKMSKeyId?: string;
}

/**
 * One object written chunk by chunk as a multipart upload, at most QUEUE_SIZE parts in flight.
 * Chunks are copied into a fixed pool of QUEUE_SIZE + 1 part buffers that are reused once their
 * part is stored, so memory stays flat whatever the size and there is nothing for the GC to do
 * (lib-storage concatenates every part into a fresh buffer: that copy and its garbage cost half the
 * archiver's throughput). A part is sent only once more data follows it, so an object that fits in
 * one part becomes a single PutObject. A part's body is a buffer, so the SDK can retry a part.
 */
class PartWriter {
  private readonly free: Buffer[] = [];
  private part: Buffer | undefined;
  private filled = 0;
  private nextPart = 1;
  private uploadId: string | undefined;
  private checksum: { ChecksumAlgorithm?: 'CRC32' } = {};
  private readonly stored: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** The first part that failed: a settled part leaves `inFlight`, its failure must not. */
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly s3: S3Client,
    private readonly target: Target,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length;) {
      if (this.filled === PART_SIZE) await this.sendPart();
      this.part ??= this.takeBuffer();
      const copied = chunk.copy(this.part, this.filled, offset);
      this.filled += copied;
      offset += copied;
    }
  }

  /** Stores what was written: the last part and CompleteMultipartUpload, or one PutObject. */
  async finish(): Promise<void> {
    const { Bucket, Key } = this.target;
    if (!this.uploadId) {
      const Body = this.part?.subarray(0, this.filled) ?? Buffer.alloc(0);
      await this.s3.send(new PutObjectCommand({ ...this.target, Body }));
      return;
    }
    await this.sendPart();
    await Promise.all(this.inFlight); // parts never reject: see `failure`
    if (this.failure) throw this.failure.error;
    const Parts = [...this.stored].sort((a, b) => a.PartNumber! - b.PartNumber!);
    await this.s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: this.uploadId, MultipartUpload: { Parts } }),
    );
  }

  /** Waits for the parts in flight, then aborts the multipart upload so that no part stays behind. */
  async abort(): Promise<string | undefined> {
    await Promise.all(this.inFlight); // parts never reject: see `failure`
    if (!this.uploadId) return undefined;
    const { Bucket, Key } = this.target;
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: this.uploadId }));
      return undefined;
    } catch (err) {
      return `the multipart upload ${this.uploadId} could not be aborted (${errorText(err)}): the bucket's lifecycle rule removes it`;
    }
  }

  private takeBuffer(): Buffer {
    // Never empty: at most QUEUE_SIZE buffers are in flight and one more may exist.
    return this.free.pop() ?? Buffer.allocUnsafe(PART_SIZE);
  }

  private async sendPart(): Promise<void> {
    while (this.inFlight.size >= QUEUE_SIZE) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure.error;
    if (!this.uploadId) {
      // As lib-storage does: where the SDK adds checksums by default (AWS), every part carries a
      // CRC32 that S3 verifies, and the upload declares it.
      if ((await this.s3.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED') {
        this.checksum = { ChecksumAlgorithm: 'CRC32' };
      }
      const created = await this.s3.send(new CreateMultipartUploadCommand({ ...this.target, ...this.checksum }));
      this.uploadId = created.UploadId;
    }
    const buffer = this.part!;
    const tracked: Promise<void> = this.uploadPart(buffer, this.filled).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    this.part = undefined;
    this.filled = 0;
  }

  private async uploadPart(buffer: Buffer, size: number): Promise<void> {
    const PartNumber = this.nextPart++;
    const { Bucket, Key } = this.target;
    try {
      const { ETag, ChecksumCRC32 } = await this.s3.send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId: this.uploadId,
          PartNumber,
          Body: buffer.subarray(0, size),
          ...this.checksum,
        }),
      );
      if (!ETag) throw new Error(`part ${PartNumber} was stored without an ETag`);
      this.stored.push({ PartNumber, ETag, ...(ChecksumCRC32 && { ChecksumCRC32 }) });
      this.free.push(buffer);
    } catch (error) {
      this.failure ??= { error };
    }
  }
}

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * Streams `source` into S3 with a multipart upload, hashing on the fly: memory stays at about
 * PART_SIZE × (QUEUE_SIZE + 1) whatever the size, and nothing touches the disk. A source that
 * breaks or ends short, or a failed part, aborts the multipart upload, so no partial object and
 * no orphaned parts remain; the error is `S3.ArchiveFailed` (retryable as a whole). The stored
 * object's size is checked with HeadObject before success is reported, then its sha256 is
 * added to its metadata.
 */
export async function archiveToS3(s3: S3Client, req: ArchiveRequest): Promise<ArchiveResult> {
  const writer = new PartWriter(s3, {
    Bucket: req.bucket,
    Key: req.key,
    ContentType: req.contentType,
    Metadata: req.metadata,
    ...encryption(req.kmsKeyId),
  });
  const hash = createHash('sha256');
  let bytes = 0;
  let reported = 0;
  try {
    for await (const chunk of req.source as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      if (req.onProgress && bytes - reported >= PART_SIZE) req.onProgress((reported = bytes));
      await writer.write(chunk);
    }
    if (bytes !== reported) req.onProgress?.(bytes);
    if (req.expectedBytes !== undefined && bytes !== req.expectedBytes) {
      throw new ArchiveError(`download ended after ${bytes} of ${req.expectedBytes} bytes`);
    }
    await writer.finish();
  } catch (err) {
    req.source.destroy();
    const leftOver = await writer.abort();
    const reason =
      err instanceof ArchiveError
        ? err.message
        : `archiving to s3://${req.bucket}/${req.key} failed: ${errorText(err)}`;
    throw new ArchiveError(leftOver ? `${reason}; ${leftOver}` : reason, err);
  }
  const sha256 = hash.digest('hex');
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
