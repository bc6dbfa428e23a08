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
import { archiveKey } from '../../lambdas/operations/archive';
import { archiveToS3 } from '../../lambdas/shared/archive';
import { PART_SIZE, QUEUE_SIZE } from '../../lambdas/shared/part-writer';

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

const hex = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** The bytes `source(size)` yields from `from` to `to`. */
function expectedBytes(size: number, from: number, to: number): Buffer {
  const all = Buffer.alloc(to - from);
  for (let at = from; at < to;) {
    const chunkStart = at - (at % MiB);
    const end = Math.min(chunkStart + MiB, to, size);
    all.fill(chunkStart % 251, at - from, end - from);
    at = end;
  }
  return all;
}

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

  it.each([
    ['access is denied', { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }],
    ['the bucket does not exist', { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }],
  ])('names it S3.ArchiveRejected (not retried) when %s, and still aborts', async (_, refusal) => {
    s3.on(UploadPartCommand).rejects(Object.assign(new Error('refused'), refusal));
    await expect(archiveToS3(new S3Client({}), request(20 * MiB))).rejects.toMatchObject({
      name: 'S3.ArchiveRejected',
      message: expect.stringContaining(`${refusal.name}: refused`),
    });
    expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'up-1' });
  });

  it.each([2, 3])('aborts when part %i fails while the others succeed', async (failing) => {
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => {
      if (input.PartNumber === failing) throw Object.assign(new Error('internal error'), { name: 'InternalError' });
      return { ETag: `"etag-${input.PartNumber}"` };
    });
    await expect(archiveToS3(new S3Client({}), request(20 * MiB))).rejects.toMatchObject({
      name: 'S3.ArchiveFailed',
      message: expect.stringContaining('InternalError'),
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

  it.each([
    ['HeadObject', HeadObjectCommand],
    ['CopyObject', CopyObjectCommand],
  ] as const)(
    'names a %s failure after the object is stored S3.ArchiveFailed, so it is retried',
    async (_, command) => {
      s3.on(HeadObjectCommand).resolves({ ContentLength: 1000 });
      s3.on(command as typeof HeadObjectCommand).rejects(
        Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown' }),
      );
      await expect(archiveToS3(new S3Client({}), request(1000))).rejects.toMatchObject({
        name: 'S3.ArchiveFailed',
        message: `s3://archive/${request(0).key} was stored but could not be verified: SlowDown: Please reduce your request rate.`,
      });
    },
  );

  it('keeps at most QUEUE_SIZE parts in flight and never reuses a buffer before its part is stored', async () => {
    const size = 7 * PART_SIZE + 5;
    s3.on(HeadObjectCommand).resolves({ ContentLength: size });
    let inFlight = 0;
    let maxInFlight = 0;
    const bodies = new Map<number, string>();
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber: number; Body: Uint8Array }) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 5 + (input.PartNumber % 3) * 5));
      // Read the body when the part "finishes": a buffer reused too early would show other bytes.
      bodies.set(input.PartNumber, hex(input.Body));
      inFlight -= 1;
      return { ETag: `"etag-${input.PartNumber}"` };
    });
    await archiveToS3(new S3Client({}), request(size));

    expect(maxInFlight).toBe(QUEUE_SIZE);
    expect([...bodies.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const [part, digest] of bodies) {
      const from = (part - 1) * PART_SIZE;
      expect(digest).toBe(hex(expectedBytes(size, from, Math.min(from + PART_SIZE, size))));
    }
    const complete = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input;
    expect(complete.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('sends no empty part when the download ends on a part boundary', async () => {
    const size = 2 * PART_SIZE;
    s3.on(HeadObjectCommand).resolves({ ContentLength: size });
    await archiveToS3(new S3Client({}), request(size));
    const sizes = s3.commandCalls(UploadPartCommand).map((c) => (c.args[0].input.Body as Uint8Array).length);
    expect(sizes).toEqual([PART_SIZE, PART_SIZE]);
  });

  it('stores an empty download as an empty object', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 0 });
    const result = await archiveToS3(new S3Client({}), request(0));
    expect(result.sha256).toBe(hex(Buffer.alloc(0)));
    expect((s3.commandCalls(PutObjectCommand)[0]!.args[0].input.Body as Uint8Array).length).toBe(0);
  });

  it('declares CRC32 part checksums where the SDK adds checksums (AWS) and none for S3-compatible servers', async () => {
    const size = PART_SIZE + 1;
    s3.on(HeadObjectCommand).resolves({ ContentLength: size });
    s3.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({
      ETag: `"etag-${input.PartNumber}"`,
      ChecksumCRC32: `crc-${input.PartNumber}`,
    }));
    await archiveToS3(new S3Client({}), request(size));
    expect(s3).toHaveReceivedCommandWith(CreateMultipartUploadCommand, { ChecksumAlgorithm: 'CRC32' });
    expect(s3).toHaveReceivedCommandWith(UploadPartCommand, { PartNumber: 2, ChecksumAlgorithm: 'CRC32' });
    const parts = s3.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input.MultipartUpload?.Parts;
    expect(parts).toEqual([
      { PartNumber: 1, ETag: '"etag-1"', ChecksumCRC32: 'crc-1' },
      { PartNumber: 2, ETag: '"etag-2"', ChecksumCRC32: 'crc-2' },
    ]);

    s3.resetHistory();
    await archiveToS3(new S3Client({ requestChecksumCalculation: 'WHEN_REQUIRED' }), request(size));
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input.ChecksumAlgorithm).toBeUndefined();
    expect(s3.commandCalls(UploadPartCommand)[0]!.args[0].input.ChecksumAlgorithm).toBeUndefined();
  });

  it('fails and aborts when a part is stored without an ETag', async () => {
    s3.on(UploadPartCommand).resolves({});
    await expect(archiveToS3(new S3Client({}), request(20 * MiB))).rejects.toMatchObject({
      name: 'S3.ArchiveFailed',
      message: expect.stringContaining('without an ETag'),
    });
    expect(s3).toHaveReceivedCommand(AbortMultipartUploadCommand);
    expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  });

  it('says so when the multipart upload cannot be aborted', async () => {
    s3.on(UploadPartCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalError' }));
    s3.on(AbortMultipartUploadCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    await expect(archiveToS3(new S3Client({}), request(20 * MiB))).rejects.toMatchObject({
      name: 'S3.ArchiveFailed',
      message: expect.stringMatching(
        /InternalError: boom.*up-1 could not be aborted \(AccessDenied: denied\).*lifecycle/,
      ),
    });
  });
});

describe('archiveKey', () => {
  it('lays keys out as <prefix><appliance>/<yyyy>/<mm>/<dd>/<UTC timestamp>-<file name>', () => {
    const at = new Date('2026-03-04T05:06:07.890+02:00'); // 03:06:07 UTC
    expect(archiveKey('support-bundles/', 'sps-prod-1', 'k1-debug_info.zip', at)).toBe(
      'support-bundles/sps-prod-1/2026/03/04/20260304T030607Z-k1-debug_info.zip',
    );
    expect(archiveKey('', 'sps-prod-1', 'a.zip', new Date('2026-12-31T23:59:59Z'))).toBe(
      'sps-prod-1/2026/12/31/20261231T235959Z-a.zip',
    );
  });

  it('keeps only safe characters of the appliance-supplied file name', () => {
    const key = archiveKey('p/', 'sps-1', '../../etc/pass wd?.zip', new Date('2026-01-02T03:04:05Z'));
    expect(key).toBe('p/sps-1/2026/01/02/20260102T030405Z-.._.._etc_pass_wd_.zip');
  });
});
