import { readFileSync } from 'node:fs';
import { mermaid, README, renderReadme } from '../../local/docs/diagrams';

describe('README state machine diagrams', () => {
  it('match the ASL files (run `npm run diagrams` after changing a state machine)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(renderReadme(readme)).toBe(readme);
  });

  it('show every state', () => {
    const asl = JSON.parse(readFileSync(`${__dirname}/../../statemachines/firmware-upgrade.asl.json`, 'utf8')) as {
      States: object;
    };
    const diagram = mermaid('firmware-upgrade');
    for (const name of Object.keys(asl.States)) expect(diagram).toContain(`"${name}"`);
  });
});
