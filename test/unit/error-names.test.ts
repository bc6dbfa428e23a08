import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_NAMES } from '../../lambdas/shared/errors';

/* The error names are a public contract: the README's "Errors" table lists exactly the catalogue. */

it('the README error table names every error in the catalogue, and nothing else', () => {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 1));
  const firstColumn = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|')[1]!);
  const documented = firstColumn.flatMap((cell) => [...cell.matchAll(/`([A-Za-z0-9]+\.[A-Za-z]+)`/g)].map((m) => m[1]));
  expect([...documented].sort()).toEqual([...ERROR_NAMES].sort());
});
