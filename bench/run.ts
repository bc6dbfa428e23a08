import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { archiveFigures } from './archive';
import { cliFigures } from './cli';
import { fleetFigures } from './fleet';
import { coldStartFigures } from './coldstart';
import { archiveCostFigures } from './cost';
import { demoFigures, pollingFigures } from './polling';
import type { Figure } from './figures';

/**
 * `npm run bench [-- --json] [-- --only archive,cost]`: measures the figures the README's "Performance" table bars.
 * Human-readable table by default; with --json one JSON line per figure on stdout and nothing else.
 */
const SUITES: Record<string, (log: (line: string) => void) => Promise<Figure[]>> = {
  polling: pollingFigures,
  demo: demoFigures,
  archive: archiveFigures,
  coldstart: (log) =>
    coldStartFigures(
      log,
      readdirSync(join(__dirname, '..', 'lambdas', 'handlers')).map((f) => f.replace(/\.ts$/, '')),
    ),
  cli: cliFigures,
  fleet: fleetFigures,
  cost: archiveCostFigures,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1]?.split(',') : undefined;
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const figures: Figure[] = [];
  for (const [name, suite] of Object.entries(SUITES)) {
    if (only && !only.includes(name)) continue;
    log(`bench: ${name}…`);
    figures.push(...(await suite(log)));
  }
  if (json) {
    for (const f of figures)
      process.stdout.write(`${JSON.stringify({ name: f.name, value: f.value, unit: f.unit })}\n`);
    return;
  }
  const width = Math.max(...figures.map((f) => f.name.length));
  process.stdout.write(`${'figure'.padEnd(width)}  ${'value'.padStart(10)}  unit    bar\n`);
  for (const f of figures) {
    process.stdout.write(
      `${f.name.padEnd(width)}  ${String(f.value).padStart(10)}  ${f.unit.padEnd(6)}  ${f.bar ?? ''}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${String(err)}\n`);
  process.exit(1);
});
