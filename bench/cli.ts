import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { median, type Figure } from './figures';

const ROOT = join(__dirname, '..');
const RUNS = 7;
const FRESH_RUNS = 3;

/** Wall seconds of one `node <checkout>/local/cli/bin.js --help` process. */
function helpSeconds(checkout: string): number {
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [join(checkout, 'local', 'cli', 'bin.js'), '--help'], { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A copy of the sources with node_modules linked: no CLI built yet, as after a clone and `npm ci`. */
function freshCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cli-'));
  for (const entry of ['local', 'lambdas', 'statemachines', 'package.json', 'tsconfig.json']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const seconds = (s: number) => Math.round(s * 100) / 100;

/**
 * How long `sps-workflows --help` takes: in this checkout once the CLI is built (the median of
 * fresh processes), and on the first command after a clone, which builds it.
 */
export async function cliFigures(log: (line: string) => void): Promise<Figure[]> {
  helpSeconds(ROOT); // builds the bundle if the sources changed
  const warm = Array.from({ length: RUNS }, () => helpSeconds(ROOT));
  const first = Array.from({ length: FRESH_RUNS }, () => {
    const checkout = freshCheckout();
    try {
      return helpSeconds(checkout);
    } finally {
      rmSync(checkout, { recursive: true, force: true });
    }
  });
  log(
    `cli: --help ${warm.map((s) => s.toFixed(2)).join(' ')} s; first command after a clone ${first.map((s) => s.toFixed(2)).join(' ')} s`,
  );
  return [
    { name: 'cli.startup_s', value: seconds(median(warm)), unit: 's', bar: '<= 1.0' },
    { name: 'cli.first_run_s', value: seconds(median(first)), unit: 's' },
  ];
}
