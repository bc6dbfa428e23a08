import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { errorText } from './errors';

export const PART_SIZE = 8 * 1024 * 1024;
export const QUEUE_SIZE = 3;

/** What every request of the upload names and what the object is stored with. */
export interface PartTarget {
  Bucket: string;
  Key: string;
  ContentType: string;
  Metadata: Record<string, string>;
  ServerSideEncryption: 'aws:kms' | 'AES256';
  SSEKMSKeyId?: string;
}

/**
 * One object written chunk by chunk as a multipart upload, with at most QUEUE_SIZE parts in
 * flight, and hashed (SHA-256) as it goes: each chunk as it arrives, while it is still in the
 * CPU's cache (hashing whole parts later, even on a thread of their own, cost twice the CPU for
 * no more throughput: bench, `archive.cpu_overhead`). Chunks are copied into a fixed pool of
 * QUEUE_SIZE + 1 part buffers, each reused once its part is stored, so memory stays flat whatever
 * the size and there is nothing for the GC to do (lib-storage concatenates every part into a fresh
 * buffer; that copy and its garbage cost a quarter of the throughput). A part is sent only once
 * more data follows it, so an object that fits in one part becomes a single PutObject. A part's
 * body is a buffer, so the SDK can retry a part.
 */
export class PartWriter {
  private written = 0;
  private readonly hash = createHash('sha256');
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
    private readonly target: PartTarget,
  ) {}

  /** Bytes written so far. */
  get bytes(): number {
    return this.written;
  }

  async write(chunk: Buffer): Promise<void> {
    this.written += chunk.length;
    this.hash.update(chunk);
    for (let offset = 0; offset < chunk.length;) {
      if (this.filled === PART_SIZE) await this.sendPart();
      this.part ??= this.free.pop() ?? Buffer.allocUnsafeSlow(PART_SIZE);
      const copied = chunk.copy(this.part, this.filled, offset);
      this.filled += copied;
      offset += copied;
    }
  }

  /**
   * Stores what was written (the last part and CompleteMultipartUpload, or one PutObject) and
   * returns the SHA-256 of every byte sent.
   */
  async finish(): Promise<string> {
    const { Bucket, Key } = this.target;
    // The digest is taken before the object is stored: once it is, nothing may fail any more.
    if (!this.uploadId) {
      const sha256 = this.hash.digest('hex');
      await this.s3.send(new PutObjectCommand({ ...this.target, Body: this.part?.subarray(0, this.filled) ?? '' }));
      return sha256;
    }
    await this.sendPart();
    await Promise.all(this.inFlight); // parts never reject: see `failure`
    if (this.failure) throw this.failure.error;
    const sha256 = this.hash.digest('hex');
    const Parts = [...this.stored].sort((a, b) => a.PartNumber! - b.PartNumber!);
    await this.s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: this.uploadId, MultipartUpload: { Parts } }),
    );
    return sha256;
  }

  /**
   * Waits for the parts in flight, then aborts the multipart upload so that no part stays behind.
   * Returns what could not be cleaned up, if anything.
   */
  async abort(): Promise<string | undefined> {
    await Promise.all(this.inFlight);
    if (!this.uploadId) return undefined;
    const { Bucket, Key } = this.target;
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: this.uploadId }));
      return undefined;
    } catch (err) {
      return `the multipart upload ${this.uploadId} could not be aborted (${errorText(err)}): the bucket's lifecycle rule removes it`;
    }
  }

  private async sendPart(): Promise<void> {
    while (this.inFlight.size >= QUEUE_SIZE) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure.error;
    if (!this.uploadId) {
      // As lib-storage does: where the SDK adds checksums by default (AWS), every part carries a
      // CRC32 that S3 verifies, and the upload declares it. An older SDK (a Lambda runtime's) may
      // predate the setting; it adds no checksums then.
      if ((await this.s3.config.requestChecksumCalculation?.()) === 'WHEN_SUPPORTED') {
        this.checksum = { ChecksumAlgorithm: 'CRC32' };
      }
      const created = await this.s3.send(new CreateMultipartUploadCommand({ ...this.target, ...this.checksum }));
      this.uploadId = created.UploadId;
    }
    const tracked: Promise<void> = this.upload(this.part!, this.filled).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
    this.part = undefined;
    this.filled = 0;
  }

  /** Uploads one part; its buffer is free again once it is stored. Never rejects. */
  private async upload(part: Buffer, size: number): Promise<void> {
    const PartNumber = this.nextPart++;
    const { Bucket, Key } = this.target;
    try {
      const Body = part.subarray(0, size);
      const { ETag, ChecksumCRC32 } = await this.s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId: this.uploadId, PartNumber, Body, ...this.checksum }),
      );
      if (!ETag) throw new Error(`part ${PartNumber} was stored without an ETag`);
      this.stored.push({ PartNumber, ETag, ...(ChecksumCRC32 && { ChecksumCRC32 }) });
      this.free.push(part);
    } catch (error) {
      this.failure ??= { error };
    }
  }
}
