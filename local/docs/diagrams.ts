import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Mermaid diagrams of the state machines, generated from the ASL files into the README between
 * `<!-- diagram:<workflow> -->` markers. `npm run diagrams` rewrites them; a test fails when the
 * README and the ASL disagree.
 */

const ROOT = join(__dirname, '..', '..');
export const README = join(ROOT, 'README.md');
export const WORKFLOWS = ['firmware-upgrade', 'support-bundle'] as const;

type State = {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: Array<Rule & { Next: string }>;
  Catch?: Array<{ Next: string }>;
};

type Rule = { Variable?: string; StringEquals?: string; BooleanEquals?: boolean; StringEqualsPath?: string };

/** An edge label for a choice rule: `dryRun`, `status = finished` (`yes` when a rule says more). */
function ruleLabel(rule: Rule): string {
  const field = rule.Variable?.split('.').at(-1);
  if (!field) return 'yes';
  if (rule.BooleanEquals !== undefined) return rule.BooleanEquals ? field : `not ${field}`;
  if (rule.StringEquals !== undefined) return `${field} = ${rule.StringEquals}`;
  return field;
}

export function mermaid(workflow: string): string {
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines', `${workflow}.asl.json`), 'utf8')) as {
    StartAt: string;
    States: Record<string, State>;
  };
  const ids = new Map(Object.keys(asl.States).map((name, i) => [name, `s${i}`]));
  const id = (name: string) => ids.get(name) ?? name;
  const lines = ['flowchart TD', `  start((start)) --> ${id(asl.StartAt)}`];
  for (const [name, s] of Object.entries(asl.States)) {
    const label = name.replace(/"/g, "'");
    const shape =
      s.Type === 'Choice'
        ? `{"${label}"}`
        : s.Type === 'Succeed' || s.Type === 'Fail'
          ? `(["${label}"])`
          : `["${label}"]`;
    lines.push(`  ${id(name)}${shape}`);
  }
  for (const [name, s] of Object.entries(asl.States)) {
    if (s.Next) lines.push(`  ${id(name)} --> ${id(s.Next)}`);
    for (const c of s.Choices ?? []) lines.push(`  ${id(name)} -->|${ruleLabel(c)}| ${id(c.Next)}`);
    if (s.Default) lines.push(`  ${id(name)} -->|otherwise| ${id(s.Default)}`);
    for (const c of s.Catch ?? []) if (c.Next !== s.Next) lines.push(`  ${id(name)} -.->|error| ${id(c.Next)}`);
  }
  return lines.join('\n');
}

const block = (workflow: string) =>
  `<!-- diagram:${workflow} -->\n\n\`\`\`mermaid\n${mermaid(workflow)}\n\`\`\`\n\n<!-- /diagram -->`;
const pattern = (workflow: string) => new RegExp(`<!-- diagram:${workflow} -->[\\s\\S]*?<!-- /diagram -->`);

/** The README with every diagram block regenerated. */
export function renderReadme(text = readFileSync(README, 'utf8')): string {
  let out = text;
  for (const wf of WORKFLOWS) {
    if (!pattern(wf).test(out)) throw new Error(`README.md has no <!-- diagram:${wf} --> block`);
    out = out.replace(pattern(wf), block(wf));
  }
  return out;
}

if (require.main === module) {
  writeFileSync(README, renderReadme());
  console.log('README.md diagrams regenerated');
}
