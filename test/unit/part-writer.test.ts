import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { archiveToS3 } from '../../lambdas/shared/archive';

// A hashing thread that dies (out of memory, killed) at its first part, or once every part is
// hashed, when the digest is asked for: the archive must fail cleanly, not hang and not store an
// object whose hash is unknown.
let mockDiesAt: 'first part' | 'digest' = 'first part';
jest.mock('node:worker_threads', () => ({
  Worker: class extends EventEmitter {
    postMessage(message: { memory: ArrayBuffer } | null) {
      if (mockDiesAt === 'digest' && message !== null) setImmediate(() => this.emit('message', message.memory));
      else setImmediate(() => this.emit('exit', 1));
    }
    terminate() {
      return Promise.resolve(1);
    }
  },
}));

const s3 = mockClient(S3Client);
const MiB = 1024 * 1024;

beforeEach(() => {
  s3.reset();
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
});

const request = (size: number) => ({
  source: Readable.from([Buffer.alloc(size, 1)]),
  expectedBytes: size,
  bucket: 'archive',
  key: 'k.zip',
  contentType: 'application/zip',
  metadata: {},
});

it.each([
  ['a multipart upload', 'first part', 20 * MiB],
  ['a single PutObject', 'first part', 1000],
  ['a multipart upload', 'digest', 20 * MiB],
  ['a single PutObject', 'digest', 1000],
] as const)('fails %s when the hashing thread dies at the %s, leaving nothing behind', async (_, diesAt, size) => {
  mockDiesAt = diesAt;
  await expect(archiveToS3(new S3Client({}), request(size))).rejects.toMatchObject({
    name: 'S3.ArchiveFailed',
    message: expect.stringContaining('the hashing thread exited (1)'),
  });
  expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  if (size > 8 * MiB) expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'up-1' });
});
