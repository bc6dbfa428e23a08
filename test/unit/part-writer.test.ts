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

// A hashing thread that dies at its first part (out of memory, killed): the archive must fail
// cleanly, not hang and not store an object whose hash is unknown.
jest.mock('node:worker_threads', () => ({
  Worker: class extends EventEmitter {
    postMessage() {
      setImmediate(() => this.emit('exit', 1));
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
  ['a multipart upload', 20 * MiB],
  ['a single PutObject', 1000],
])('fails %s when the hashing thread dies, leaving nothing behind', async (_, size) => {
  await expect(archiveToS3(new S3Client({}), request(size))).rejects.toMatchObject({
    name: 'S3.ArchiveFailed',
    message: expect.stringContaining('the hashing thread exited (1)'),
  });
  expect(s3).not.toHaveReceivedCommand(CompleteMultipartUploadCommand);
  expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  if (size > 8 * MiB) expect(s3).toHaveReceivedCommandWith(AbortMultipartUploadCommand, { UploadId: 'up-1' });
});
