import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INPUT_LIMITS, type WorkflowInput } from '../../lambdas/shared/input';

/* The README's input tables state every limit the schemas enforce: range and default, from one table. */

const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The rows of the field table in a README section, by field. */
function tableOf(section: string): Map<string, string[]> {
  const start = readme.indexOf(`## ${section}`);
  const text = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const rows = text.split('\n').filter((line) => /^\| `[a-zA-Z.]+`/.test(line));
  return new Map(
    rows.map((line) => line.split('|').map((cell) => cell.trim())).map((cells) => [cells[1]!.replace(/`/g, ''), cells]),
  );
}

const TABLES: Record<WorkflowInput, Map<string, string[]>> = {
  'firmware-upgrade': tableOf('Firmware upgrade'),
  'support-bundle': tableOf('Support-bundle archival'),
  preflight: tableOf('Preflight'),
  'fleet-run': tableOf('Fleet runs'),
  'fleet-upgrade': tableOf('Fleet upgrade'),
};

describe.each(Object.entries(INPUT_LIMITS))('README input tables: %s', (field, limit) => {
  it.each(limit.workflows.map((w) => [w]))('the %s table states its range and default', (workflow) => {
    const row = TABLES[workflow].get(field);
    expect(row).toBeDefined();
    const [, , , range, fallback] = row!;
    expect(range).toContain(`${limit.min}–${limit.max}`);
    if ('default' in limit) expect(fallback).toContain(String(limit.default));
  });
});
