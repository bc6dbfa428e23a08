import { CASES, readmeRows, rowCells, runCase, type MatrixRow } from './helpers/fault-matrix';

/*
 * The appliance workflows, the fleet runs and the fleet upgrade against every scenario and fault:
 * each must reach its stated end, leave no running fetch, failed bundle, partial object or open
 * multipart upload behind, and leak no secret (a fleet's children included). The README's
 * "Reliability" table is these rows: regenerate it with `npm run fault-matrix`.
 */

const rows: MatrixRow[] = [];

describe('fault matrix', () => {
  it.each(CASES.map((c) => [`${c.workflow}: ${c.fault}`, c] as const))('%s', async (_name, c) => {
    const row = await runCase(c);
    expect(row.end).toBe(c.expect);
    rows.push(row);
  });

  it('is what the README shows (regenerate with `npm run fault-matrix`)', () => {
    expect(rows).toHaveLength(CASES.length);
    expect(readmeRows()).toEqual(rows.map(rowCells));
  });
});
