import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { bundle } from './bundle';
import { median, type Figure } from './figures';

const HANDLERS_DIR = join(__dirname, '..', 'lambdas', 'handlers');
const RUNS = 7;

/** Median milliseconds to `require` a module in a fresh node process. */
function medianLoadMs(args: string[], target: string): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = execFileSync(
      process.execPath,
      [
        ...args,
        '-e',
        `const t=process.hrtime.bigint();require(${JSON.stringify(target)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
      ],
      { env: { ...process.env, NODE_NO_WARNINGS: '1', AWS_REGION: 'us-east-1' } },
    );
    samples.push(Number(out.toString()));
  }
  return median(samples);
}

/**
 * For every handler: the minified bundle's size, and its module load against the same handler
 * imported unbundled (TypeScript through tsx's require hook, whose compile cost is excluded by
 * warming its cache first), each in fresh processes.
 */
export async function coldStartFigures(log: (line: string) => void, handlers: string[]): Promise<Figure[]> {
  const figures: Figure[] = [];
  const tsx = ['--require', require.resolve('tsx/cjs')];
  for (const name of handlers) {
    const entry = join(HANDLERS_DIR, `${name}.ts`);
    const { file, bytes } = bundle(entry, `handler-${name}`);
    medianLoadMs(tsx, entry); // warms tsx's transform cache
    const unbundled = medianLoadMs(tsx, entry);
    const bundled = medianLoadMs([], file);
    log(
      `coldstart: ${name} ${(bytes / 1024).toFixed(0)} KB, load ${bundled.toFixed(0)} ms bundled vs ${unbundled.toFixed(0)} ms unbundled`,
    );
    figures.push(
      { name: `coldstart.${name}.bundle_kb`, value: Math.round(bytes / 1024), unit: 'KB', bar: '<= 400' },
      {
        name: `coldstart.${name}.load_ratio`,
        value: Math.round((bundled / unbundled) * 100) / 100,
        unit: 'ratio',
        bar: '<= 0.5',
      },
    );
  }
  return figures;
}
