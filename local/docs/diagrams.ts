import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/*
 * Mermaid diagrams of the state machines, generated from the ASL files into the README between
 * `<!-- diagram:<workflow> -->` markers. `npm run diagrams` rewrites them; a test fails when the
 * README and the ASL disagree.
 */

const ROOT = join(__dirname, '..', '..');
export const README = join(ROOT, 'README.md');
export const WORKFLOWS = ['firmware-upgrade', 'support-bundle', 'fleet-run', 'fleet-upgrade'] as const;

type State = {
  Type: string;
  Next?: string;
  Default?: string;
  Choices?: Array<Rule & { Next: string }>;
  Catch?: Array<{ Next: string }>;
  /** A Map's iterations. */
  ItemProcessor?: { StartAt: string; States: Record<string, State> };
};

type Rule = {
  Variable?: string;
  StringEquals?: string;
  BooleanEquals?: boolean;
  StringEqualsPath?: string;
  IsNull?: boolean;
  Not?: Rule;
};

/** An edge label for a choice rule: `dryRun`, `status = finished` (`yes` when a rule says more). */
function ruleLabel(rule: Rule): string {
  // `$.unregistered[0]` reads as `unregistered` (brackets would end a mermaid label).
  const field = rule.Variable?.split('.')
    .at(-1)
    ?.replace(/\[\d+\]$/, '');
  // `Not IsNull`: the field is set.
  if (rule.Not) return rule.Not.IsNull ? ruleLabel({ ...rule.Not, IsNull: false }) : `not ${ruleLabel(rule.Not)}`;
  if (!field) return 'yes';
  if (rule.IsNull !== undefined) return rule.IsNull ? `no ${field}` : field;
  if (rule.BooleanEquals !== undefined) return rule.BooleanEquals ? field : `not ${field}`;
  if (rule.StringEquals !== undefined) return `${field} = ${rule.StringEquals}`;
  return field;
}

export function mermaid(workflow: string): string {
  const asl = JSON.parse(readFileSync(join(ROOT, 'statemachines', `${workflow}.asl.json`), 'utf8')) as {
    StartAt: string;
    States: Record<string, State>;
  };
  const lines = ['flowchart TD', `  start((start)) --> s${Object.keys(asl.States).indexOf(asl.StartAt)}`];
  lines.push(...statesOf(asl.States, 's', '  '));
  return lines.join('\n');
}

/** Nodes and edges of a set of states, ids `<prefix><index>`; a Map's iterations as a subgraph. */
function statesOf(states: Record<string, State>, prefix: string, indent: string): string[] {
  const ids = new Map(Object.keys(states).map((name, i) => [name, `${prefix}${i}`]));
  const id = (name: string) => ids.get(name) ?? name;
  const lines: string[] = [];
  for (const [name, s] of Object.entries(states)) {
    const label = name.replace(/"/g, "'");
    const shape =
      s.Type === 'Choice'
        ? `{"${label}"}`
        : s.Type === 'Succeed' || s.Type === 'Fail'
          ? `(["${label}"])`
          : s.Type === 'Map'
            ? `[["${label}"]]`
            : `["${label}"]`;
    lines.push(`${indent}${id(name)}${shape}`);
  }
  for (const [name, s] of Object.entries(states)) {
    if (s.Next) lines.push(`${indent}${id(name)} --> ${id(s.Next)}`);
    for (const c of s.Choices ?? []) lines.push(`${indent}${id(name)} -->|${ruleLabel(c)}| ${id(c.Next)}`);
    if (s.Default) lines.push(`${indent}${id(name)} -->|otherwise| ${id(s.Default)}`);
    for (const c of s.Catch ?? []) if (c.Next !== s.Next) lines.push(`${indent}${id(name)} -.->|error| ${id(c.Next)}`);
    const inner = s.ItemProcessor;
    if (inner) {
      const innerPrefix = `${id(name)}_`;
      lines.push(`${indent}subgraph ${id(name)}_each [each item]`);
      lines.push(...statesOf(inner.States, innerPrefix, `${indent}  `));
      lines.push(`${indent}end`);
      lines.push(`${indent}${id(name)} -.- ${innerPrefix}${Object.keys(inner.States).indexOf(inner.StartAt)}`);
    }
  }
  return lines;
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
