import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { archiveToS3, PART_SIZE } from '../../lambdas/shared/archive';

const s3 = mockClient(S3Client);
const MiB = 1024 * 1024;

/** `size` deterministic bytes in 1 MiB chunks; optionally breaks after `breakAfter` bytes. */
function source(size: number, breakAfter?: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (breakAfter !== undefined && sent >= breakAfter) {
        this.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
        return;
      }
      if (sent >= size) return this.push(null);
      const n = Math.min(MiB, size - sent);
      const chunk = Buffer.alloc(n, sent % 251);
      sent += n;
      this.push(chunk);
    },
  });
}

const sha = (size: number) => {
  const h = createHash('sha256');
  for (let sent = 0; sent < size; sent += MiB) h.update(Buffer.alloc(Math.min(MiB, size - sent), sent % 251));
  return h.digest('hex');
};

const request = (size: number, extra: Partial<Parameters<typeof archiveToS3>[1]> = {}) => ({
  source: source(size),
  expectedBytes: size,
  bucket: 'archive',
  key: 'support-bundles/sps-1/2026/11/22/20261122T120000Z-k-debug_info.zip',
  contentType: 'application/zip',
  metadata: { appliance: 'sps-1', 'bundle-key': 'k' },
  ...extra,
});

beforeEach(() => {
  s3.reset();
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"etag-${input.PartNumber}"` }));
  s3.on(CompleteMultipartUploadCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
  s3.on(CopyObjectCommand).resolves({ VersionId: 'v2' });
});

describe('archiveToS3', () => {
  it('streams in parts, hashes on the fly, checks the size and records the sha256 in the metadata', async () => {
    const size = 20 * MiB + 123;
    s3.on(HeadObjectCommand).resolves({ ContentLength: size, VersionId: 'v1' });
    const result = await archiveToS3(new S3Client({}), request(size));

    expect(result).toEqual({ bucket: 'archive', key: request(0).key, bytes: size, sha256: sha(size), versionId: 'v2' });
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, {
      Bucket: 'archive',
      ContentType: 'application/zip',
      ServerSideEncryption: 'AES256',
      Metadata: { appliance: 'sps-1', 'bundle-key': 'k' },
    });
    expect(s3).toHaveReceivedCommandTimes(UploadPartCommand, Math.ceil(size / PART_SIZE));
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(complete.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(s3).toHaveReceivedCommandWith(CopyObjectCommand, {
      MetadataDirective: 'REPLACE',
      Metadata: { appliance: 'sps-1', 'bundle-key': 'k', sha256: sha(size) },
      CopySource: `archive/${request(0).key}`,
    });
    expect(s3).not.toHaveReceivedCommand(AbortMultipartUploadCommand);
  });

  it('reports progress about every part and at the end', async () => {
    const size = 20 * MiB + 123;
    s3.on(HeadObjectCommand).resolves({ ContentLength: size });
    const seen: number[] = [];
    await archiveToS3(new S3Client({}), request(size, { onProgress: (bytes) => seen.push(bytes) }));
    expect(seen).toEqual([8 * MiB, 16 * MiB, size]);
  });

  it('uses KMS when a key is given and a single PutObject for a small bundle', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 1000 });
    await archiveToS3(new S3Client({}), request(1000, { kmsKeyId: 'key-1' }));
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'key-1' });
    expect(s3).not.toHaveReceivedCommand(CreateMultipartUploadCommand);
  });

  it('aborts the multipart upload when a part fails', async () => {
    s3.on(UploadPartCommand).rejects(Object.assign(new Error('slow down'), { name: 'SlowDown' }));
    await expect(archiveToS3(new S3Client({}), request(20 * MiB))).rejects.toMatchObject({
      name: 'S3.ArchiveFailed',
      message: expect.stringContaining('SlowDown'),
    });
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'up-1' });
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('aborts when the download ends short of its Content-Length', async () => {
    await expect(archiveToS3(new S3Client({}), request(20 * MiB, { expectedBytes: 30 * MiB }))).rejects.toMatchObject({
      name: 'S3.ArchiveFailed',
      message: expect.stringContaining(`${20 * MiB} of ${30 * MiB} bytes`),
    });
    expect(s3).toHaveReceivedCommand(AbortMultipartUploadCommand);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });

  it('aborts when the download breaks (connection reset)', async () => {
    await expect(
      archiveToS3(new S3Client({}), request(30 * MiB, { source: source(30 * MiB, 17 * MiB) })),
    ).rejects.toMatchObject({ name: 'S3.ArchiveFailed', message: expect.stringContaining('other side closed') });
    expect(s3).toHaveReceivedCommand(AbortMultipartUploadCommand);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('stores nothing for a small download that breaks', async () => {
    await expect(
      archiveToS3(new S3Client({}), request(3 * MiB, { source: source(3 * MiB, 2 * MiB) })),
    ).rejects.toMatchObject({ name: 'S3.ArchiveFailed' });
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('fails when the stored object does not have the size that was sent', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 5 });
    await expect(archiveToS3(new S3Client({}), request(1000))).rejects.toMatchObject({
      name: 'S3.ArchiveFailed',
      message: expect.stringContaining('holds 5 bytes, 1000 were sent'),
    });
  });
});
