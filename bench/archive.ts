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

/**
 * Rounds of one run of each mode, the order turning from round to round: the machine's drift hits
 * every side of a round alike, and each ratio is taken within its round.
 */
const ROUNDS = 7;
const MODES = ['raw', 'archive', 'lib-storage'] as const;
type Mode = (typeof MODES)[number];

async function worker(file: string, mode: Mode, sourceUrl: string, sink: string): Promise<WorkerResult> {
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
 * The archiver against a raw pipe of the same source into the same sink and against
 * `@aws-sdk/lib-storage`'s Upload hashing the same stream (medians of ROUNDS rounds, ratios taken
 * within each round): its CPU per GiB over the raw pipe's plus SHA-256's (the barred overhead: the
 * work it cannot avoid), its throughput over lib-storage's (barred) and over the raw pipe's
 * (reported: noise-bound on 2 shared cores), how much the raw pipe alone varied, and the archiving
 * process's peak RSS for a 1 GiB and a 4 GiB bundle.
 */
export async function archiveFigures(log: (line: string) => void): Promise<Figure[]> {
  // The worker runs bundled under plain node, as the function does on Lambda.
  const { file } = bundle(join(__dirname, 'archive-worker.ts'), 'archive-worker');
  const [source, sink] = await Promise.all([startSource(), startSink()]);
  try {
    const sha256 = sha256SecondsPerGiB();
    const rounds: Array<Record<Mode, WorkerResult>> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const round = {} as Record<Mode, WorkerResult>;
      for (let m = 0; m < MODES.length; m++) {
        const mode = MODES[(i + m) % MODES.length]!;
        round[mode] = await worker(file, mode, source.url(GiB), sink.endpoint);
      }
      rounds.push(round);
    }
    const of = (mode: Mode, figure: (r: WorkerResult) => number) => median(rounds.map((r) => figure(r[mode])));
    const within = (figure: (r: Record<Mode, WorkerResult>) => number) => median(rounds.map(figure));
    const rawSpeeds = rounds.map((r) => mibPerSecond(r.raw));
    log(
      `archive: raw pipe ${of('raw', mibPerSecond).toFixed(0)} MiB/s, archiver ${of('archive', mibPerSecond).toFixed(0)} MiB/s, ` +
        `lib-storage ${of('lib-storage', mibPerSecond).toFixed(0)} MiB/s (medians of ${ROUNDS})`,
    );
    const rss1 = rounds.reduce((m, r) => Math.max(m, r.archive.maxRssMiB), 0);
    const four = await worker(file, 'archive', source.url(4 * GiB), sink.endpoint);
    log(`archive: 4 GiB in ${(four.ms / 1000).toFixed(1)} s`);
    return [
      {
        name: 'archive.cpu_overhead',
        value: round(
          within((r) => cpuSecondsPerGiB(r.archive) / (cpuSecondsPerGiB(r.raw) + sha256)),
          2,
        ),
        unit: 'ratio',
        bar: '<= 1.10',
      },
      {
        name: 'archive.vs_lib_storage',
        value: round(
          within((r) => mibPerSecond(r.archive) / mibPerSecond(r['lib-storage'])),
          2,
        ),
        unit: 'ratio',
        bar: '>= 1.25',
      },
      {
        name: 'archive.throughput_ratio',
        value: round(
          within((r) => mibPerSecond(r.archive) / mibPerSecond(r.raw)),
          2,
        ),
        unit: 'ratio',
      },
      { name: 'archive.raw_mib_s', value: round(of('raw', mibPerSecond)), unit: 'MiB/s' },
      { name: 'archive.archiver_mib_s', value: round(of('archive', mibPerSecond)), unit: 'MiB/s' },
      { name: 'archive.lib_storage_mib_s', value: round(of('lib-storage', mibPerSecond)), unit: 'MiB/s' },
      { name: 'archive.raw_cpu_s_per_gib', value: round(of('raw', cpuSecondsPerGiB), 2), unit: 's' },
      { name: 'archive.archiver_cpu_s_per_gib', value: round(of('archive', cpuSecondsPerGiB), 2), unit: 's' },
      { name: 'archive.lib_storage_cpu_s_per_gib', value: round(of('lib-storage', cpuSecondsPerGiB), 2), unit: 's' },
      {
        name: 'archive.fixtures_cpu_s_per_gib',
        value: round(median(rounds.flatMap((r) => MODES.map((m) => fixturesCpuSecondsPerGiB(r[m])))), 2),
        unit: 's',
      },
      { name: 'archive.sha256_cpu_s_per_gib', value: round(sha256, 2), unit: 's' },
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
