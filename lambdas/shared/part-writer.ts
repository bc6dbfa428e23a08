import { Worker } from 'node:worker_threads';
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

// Hashes the parts in the order they arrive and hands each one back; `null` asks for the digest.
const HASHER = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (part) => {
  if (part === null) return parentPort.postMessage(hash.digest('hex'));
  hash.update(new Uint8Array(part.memory, 0, part.length));
  parentPort.postMessage(part.memory, [part.memory]);
});`;

/**
 * SHA-256 of the parts on a thread of its own, so the thread that reads the download and sends
 * the parts never waits for it (the hash alone takes 0.6 CPU seconds per GiB on the bench
 * machine). A part's memory moves to the hasher and back (transferred, not copied); it is sent
 * once it is back.
 */
class PartHasher {
  private readonly worker = new Worker(HASHER, { eval: true });
  private readonly replies: Array<{ resolve(value: unknown): void; reject(err: Error): void }> = [];
  private broken: Error | undefined;

  constructor() {
    const fail = (err: Error) => {
      this.broken ??= err;
      for (const reply of this.replies.splice(0)) reply.reject(err);
    };
    this.worker.on('message', (value) => this.replies.shift()?.resolve(value));
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)));
  }

  /** Hashes `part` (a whole buffer of its own, up to `length`) and returns it. */
  async update(part: Buffer, length: number): Promise<Buffer> {
    const memory = part.buffer as ArrayBuffer;
    const back = (await this.ask({ memory, length }, [memory])) as ArrayBuffer;
    return Buffer.from(back);
  }

  digest(): Promise<string> {
    return this.ask(null) as Promise<string>;
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private ask(message: unknown, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.replies.push({ resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }
}

/**
 * One object written chunk by chunk as a multipart upload, with at most QUEUE_SIZE parts in
 * flight, and hashed (SHA-256) as it goes. Chunks are copied into a fixed pool of QUEUE_SIZE + 1
 * part buffers, each reused once its part is stored and hashed, so memory stays flat whatever the
 * size and there is nothing for the GC to do (lib-storage concatenates every part into a fresh
 * buffer; that copy and its garbage cost a quarter of the throughput). A part is sent only
 * once more data follows it, so an object that fits in one part becomes a single PutObject. A
 * part's body is a buffer, so the SDK can retry a part. Call `close()` when done, whatever happened.
 */
export class PartWriter {
  private written = 0;
  private readonly hasher = new PartHasher();
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
    for (let offset = 0; offset < chunk.length;) {
      if (this.filled === PART_SIZE) await this.sendPart();
      // A buffer of its own (not from Node's shared pool), so that it can move to the hasher.
      this.part ??= this.free.pop() ?? Buffer.from(new ArrayBuffer(PART_SIZE));
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
      const part = await this.hasher.update(this.part ?? Buffer.from(new ArrayBuffer(0)), this.filled);
      const sha256 = await this.hasher.digest();
      await this.s3.send(new PutObjectCommand({ ...this.target, Body: part.subarray(0, this.filled) }));
      return sha256;
    }
    await this.sendPart();
    await Promise.all(this.inFlight); // parts never reject: see `failure`
    if (this.failure) throw this.failure.error;
    const sha256 = await this.hasher.digest();
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

  close(): Promise<void> {
    return this.hasher.close();
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
    const tracked: Promise<void> = this.sendAndHash(this.part!, this.filled).finally(() =>
      this.inFlight.delete(tracked),
    );
    this.inFlight.add(tracked);
    this.part = undefined;
    this.filled = 0;
  }

  /** Hashes, then uploads one part; its buffer is free again once it is stored. Never rejects. */
  private async sendAndHash(buffer: Buffer, size: number): Promise<void> {
    const PartNumber = this.nextPart++;
    const { Bucket, Key } = this.target;
    try {
      const part = await this.hasher.update(buffer, size);
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
