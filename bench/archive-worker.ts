/**
 * One archiving run in its own process, so that its peak RSS is its own:
 * `tsx bench/archive-worker.ts <archive|raw|lib-storage> <sourceUrl> <sinkEndpoint>` prints
 * `{bytes, ms, cpuMs, maxRssMiB}`.
 */
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import { request } from 'undici';
import { archiveToS3, s3Client } from '../lambdas/shared/archive';
import { PART_SIZE, QUEUE_SIZE } from '../lambdas/shared/part-writer';

async function main(): Promise<void> {
  const [mode, sourceUrl, sink] = process.argv.slice(2) as [string, string, string];
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  const s3 = s3Client(sink, { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const res = await request(sourceUrl);
  const expectedBytes = Number(res.headers['content-length']);
  let bytes: number;
  if (mode === 'raw') {
    // The baseline: the same bytes piped to the same sink, no hashing, no multipart, no SDK.
    const put = await request(`${sink}/bench/raw.zip`, {
      method: 'PUT',
      body: res.body,
      headers: { 'content-length': String(expectedBytes) },
    });
    await put.body.dump();
    bytes = expectedBytes;
  } else if (mode === 'lib-storage') {
    // The library the archiver replaces: Upload with the same client, part size and queue, the
    // stream hashed on its way in as an Upload user would (no verification afterwards: less work).
    const hash = createHash('sha256');
    bytes = 0;
    const hashed = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const upload = new Upload({
      client: s3,
      params: { Bucket: 'bench', Key: 'support-bundles/bench/lib-storage.zip', Body: res.body.pipe(hashed) },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
    });
    await upload.done();
    hash.digest('hex');
  } else {
    const stored = await archiveToS3(s3, {
      source: res.body,
      expectedBytes,
      bucket: 'bench',
      key: 'support-bundles/bench/archive.zip',
      contentType: 'application/zip',
      metadata: { appliance: 'bench' },
    });
    bytes = stored.bytes;
  }
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpuAtStart); // every thread of the process
  const maxRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ bytes, ms, cpuMs: (user + system) / 1000, maxRssMiB })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
