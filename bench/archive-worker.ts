/**
 * One archiving run in its own process, so that its peak RSS is its own:
 * `tsx bench/archive-worker.ts <archive|raw> <sourceUrl> <sinkEndpoint>` prints `{bytes, ms, cpuMs, maxRssMiB}`.
 */
import { request } from 'undici';
import { archiveToS3, s3Client } from '../lambdas/shared/archive';

async function main(): Promise<void> {
  const [mode, sourceUrl, sink] = process.argv.slice(2) as [string, string, string];
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
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
  } else {
    const s3 = s3Client(sink, { region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
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
