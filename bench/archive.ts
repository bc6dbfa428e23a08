import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundle } from './bundle';
import { startSink } from './sink';
import { startSource } from './source';
import { median, type Figure } from './figures';

const run = promisify(execFile);
const GiB = 1024 ** 3;

interface WorkerResult {
  bytes: number;
  ms: number;
  /** CPU time of the whole archiving process (all its threads). */
  cpuMs: number;
  maxRssMiB: number;
  /** CPU time the source and the sink (this process) spent meanwhile. */
  fixturesCpuMs: number;
}

/** Alternating raw/archive pairs: the machine's drift hits both sides of each pair alike. */
const PAIRS = 5;

async function worker(file: string, mode: 'archive' | 'raw', sourceUrl: string, sink: string): Promise<WorkerResult> {
  const fixturesAtStart = process.cpuUsage();
  const { stdout } = await run(process.execPath, [file, mode, sourceUrl, sink], {
    maxBuffer: 1024 * 1024,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  const { user, system } = process.cpuUsage(fixturesAtStart);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<WorkerResult, 'fixturesCpuMs'>;
  return { ...result, fixturesCpuMs: (user + system) / 1000 };
}

const mibPerSecond = (r: WorkerResult) => r.bytes / 1024 / 1024 / (r.ms / 1000);
const cpuSecondsPerGiB = (r: WorkerResult) => r.cpuMs / 1000 / (r.bytes / GiB);
const fixturesCpuSecondsPerGiB = (r: WorkerResult) => r.fixturesCpuMs / 1000 / (r.bytes / GiB);

/** CPU seconds that SHA-256 alone takes for 1 GiB here, in 8 MiB updates: the archiver's floor. */
function sha256SecondsPerGiB(): number {
  const part = Buffer.alloc(8 * 1024 * 1024, 7);
  const hash = createHash('sha256');
  const started = process.cpuUsage();
  for (let done = 0; done < GiB; done += part.length) hash.update(part);
  hash.digest();
  const { user, system } = process.cpuUsage(started);
  return (user + system) / 1e6;
}

/**
 * Archive throughput against a raw pipe of the same source into the same sink (the median of
 * PAIRS alternating pairs), the CPU each costs per GiB (the piping process, and the source and sink
 * beside it), how much the raw pipe alone varied, and the archiving process's peak RSS for a 1 GiB
 * and a 4 GiB bundle.
 */
export async function archiveFigures(log: (line: string) => void): Promise<Figure[]> {
  // The worker runs bundled under plain node, as the function does on Lambda.
  const { file } = bundle(join(__dirname, 'archive-worker.ts'), 'archive-worker');
  const [source, sink] = await Promise.all([startSource(), startSink()]);
  try {
    const raw: WorkerResult[] = [];
    const archived: WorkerResult[] = [];
    for (let i = 0; i < PAIRS; i++) {
      raw.push(await worker(file, 'raw', source.url(GiB), sink.endpoint));
      archived.push(await worker(file, 'archive', source.url(GiB), sink.endpoint));
    }
    const rawSpeeds = raw.map(mibPerSecond);
    const rawSpeed = median(rawSpeeds);
    const archiveSpeed = median(archived.map(mibPerSecond));
    const ratio = median(archived.map((a, i) => mibPerSecond(a) / mibPerSecond(raw[i]!)));
    log(
      `archive: raw pipe ${rawSpeed.toFixed(0)} MiB/s, archiver ${archiveSpeed.toFixed(0)} MiB/s (medians of ${PAIRS})`,
    );
    const rss1 = archived.reduce((m, r) => Math.max(m, r.maxRssMiB), 0);
    const four = await worker(file, 'archive', source.url(4 * GiB), sink.endpoint);
    log(`archive: 4 GiB in ${(four.ms / 1000).toFixed(1)} s`);
    return [
      { name: 'archive.raw_mib_s', value: round(rawSpeed), unit: 'MiB/s' },
      { name: 'archive.archiver_mib_s', value: round(archiveSpeed), unit: 'MiB/s' },
      { name: 'archive.throughput_ratio', value: round(ratio, 2), unit: 'ratio', bar: '>= 0.8' },
      { name: 'archive.raw_cpu_s_per_gib', value: round(median(raw.map(cpuSecondsPerGiB)), 2), unit: 's' },
      { name: 'archive.archiver_cpu_s_per_gib', value: round(median(archived.map(cpuSecondsPerGiB)), 2), unit: 's' },
      {
        name: 'archive.fixtures_cpu_s_per_gib',
        value: round(median([...raw, ...archived].map(fixturesCpuSecondsPerGiB)), 2),
        unit: 's',
      },
      { name: 'archive.sha256_cpu_s_per_gib', value: round(sha256SecondsPerGiB(), 2), unit: 's' },
      // The same raw pipe, run after run: the fastest ÷ the slowest, the machine's own noise.
      { name: 'archive.raw_spread', value: round(Math.max(...rawSpeeds) / Math.min(...rawSpeeds), 2), unit: 'ratio' },
      { name: 'archive.rss_1gib_mib', value: round(rss1), unit: 'MiB', bar: '<= 192' },
      { name: 'archive.rss_4gib_mib', value: round(four.maxRssMiB), unit: 'MiB', bar: '<= 192, within 16 of 1 GiB' },
    ];
  } finally {
    await Promise.all([source.close(), sink.close()]);
  }
}

const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits;
