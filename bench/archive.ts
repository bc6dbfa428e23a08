import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundle } from './bundle';
import { startSink } from './sink';
import { startSource } from './source';
import type { Figure } from './figures';

const run = promisify(execFile);
const GiB = 1024 ** 3;

interface WorkerResult {
  bytes: number;
  ms: number;
  maxRssMiB: number;
}

async function worker(mode: 'archive' | 'raw', sourceUrl: string, sink: string): Promise<WorkerResult> {
  // The worker runs bundled under plain node, as the function does on Lambda.
  const { file } = bundle(join(__dirname, 'archive-worker.ts'), 'archive-worker');
  const { stdout } = await run(process.execPath, [file, mode, sourceUrl, sink], {
    maxBuffer: 1024 * 1024,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as WorkerResult;
}

const mibPerSecond = (r: WorkerResult) => r.bytes / 1024 / 1024 / (r.ms / 1000);

/**
 * Archive throughput against a raw pipe of the same source into the same sink (best of two
 * alternating runs each, same process conditions), and the archiving process's peak RSS for a
 * 1 GiB and a 4 GiB bundle.
 */
export async function archiveFigures(log: (line: string) => void): Promise<Figure[]> {
  const [source, sink] = await Promise.all([startSource(), startSink()]);
  try {
    const raw: WorkerResult[] = [];
    const archived: WorkerResult[] = [];
    for (let i = 0; i < 2; i++) {
      raw.push(await worker('raw', source.url(GiB), sink.endpoint));
      archived.push(await worker('archive', source.url(GiB), sink.endpoint));
    }
    const bestRaw = Math.max(...raw.map(mibPerSecond));
    const bestArchive = Math.max(...archived.map(mibPerSecond));
    log(`archive: raw pipe ${bestRaw.toFixed(0)} MiB/s, archiver ${bestArchive.toFixed(0)} MiB/s`);
    const rss1 = archived.reduce((m, r) => Math.max(m, r.maxRssMiB), 0);
    const four = await worker('archive', source.url(4 * GiB), sink.endpoint);
    log(`archive: 4 GiB in ${(four.ms / 1000).toFixed(1)} s`);
    return [
      { name: 'archive.raw_mib_s', value: round(bestRaw), unit: 'MiB/s' },
      { name: 'archive.archiver_mib_s', value: round(bestArchive), unit: 'MiB/s' },
      { name: 'archive.throughput_ratio', value: round(bestArchive / bestRaw, 2), unit: 'ratio', bar: '>= 0.8' },
      { name: 'archive.rss_1gib_mib', value: round(rss1), unit: 'MiB', bar: '<= 192' },
      { name: 'archive.rss_4gib_mib', value: round(four.maxRssMiB), unit: 'MiB', bar: '<= 192, within 16 of 1 GiB' },
    ];
  } finally {
    await Promise.all([source.close(), sink.close()]);
  }
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
