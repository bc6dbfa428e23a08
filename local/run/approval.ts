import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { nameOf, type PlannedWave } from '../../lambdas/shared/fleet-upgrade';
import type { ApprovalAnswer, ApprovalRequest } from '../engine/engine';
import type { Output } from './run';

/*
 * A local fleet upgrade waiting for a person (README, "Fleet upgrade"): it asks at the terminal
 * when it has one, and takes the answer of `sps-workflows approve|reject <execution>` from another
 * shell either way. The task token never leaves the engine: the files name the execution only.
 */

export const APPROVALS_DIR = join('.sps-workflows', 'approvals');
const requestFile = (execution: string) => join(APPROVALS_DIR, `${execution}.request.json`);
const answerFile = (execution: string) => join(APPROVALS_DIR, `${execution}.answer.json`);
const POLL_MS = 250;

/** What the person sees: the waves still to come, the clusters' order, what was done so far. */
export function approvalSummary(detail: Record<string, unknown>): string[] {
  const waves = (detail.waves as PlannedWave[]) ?? [];
  const upgraded = (detail.upgraded as unknown[]) ?? [];
  const stage = detail.stage as {
    summary?: { succeeded: number };
    report?: { bucket: string; keys: string[] };
  } | null;
  const notes = detail.upgradeNotes as { bucket: string; key: string; slot: string; from: string } | null;
  return [
    `approval requested: ${(detail.firmware as { expectedVersion: string }).expectedVersion}, ${upgraded.length} appliance(s) upgraded so far`,
    ...(stage?.summary
      ? [`  staged: ${stage.summary.succeeded} appliance(s) passed preflight, fetch and precheck`]
      : []),
    ...(notes
      ? [`  the vendor's upgrade notes (slot ${notes.slot} of ${notes.from}): s3://${notes.bucket}/${notes.key}`]
      : []),
    ...waves.map(
      (w, i) =>
        `  wave ${i + 1} (${w.kind === 'cluster' ? `cluster ${w.cluster}, in this order` : w.kind}): ${w.appliances.map(nameOf).join(', ')}`,
    ),
  ];
}

/** The answer `approve`/`reject` left for `execution`, once there is one (and the files removed). */
function takeAnswer(execution: string): ApprovalAnswer | undefined {
  if (!existsSync(answerFile(execution))) return undefined;
  const answer = JSON.parse(readFileSync(answerFile(execution), 'utf8')) as ApprovalAnswer;
  rmSync(answerFile(execution), { force: true });
  return answer;
}

/**
 * The engine's approver for a local run: writes the request (without its token) where the
 * `approve`/`reject` commands find it, asks at the terminal when stdin and stderr are one, and
 * resolves with the first answer.
 */
export function localApprover(io: { stderr: Output; stdin?: NodeJS.ReadStream }, execution: string) {
  return async (request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalAnswer> => {
    mkdirSync(APPROVALS_DIR, { recursive: true });
    const { taskToken: _token, ...detail } = request.detail;
    writeFileSync(requestFile(execution), `${JSON.stringify(detail, null, 2)}\n`);
    io.stderr.write(`${approvalSummary(detail).join('\n')}\n`);
    io.stderr.write(
      `  answer with: sps-workflows approve ${execution}   or   sps-workflows reject ${execution} --reason TEXT\n`,
    );
    const asked = new AbortController();
    const stop = () => asked.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const fromFile = new Promise<ApprovalAnswer>((resolve) => {
        const timer = setInterval(() => {
          const answer = takeAnswer(execution);
          if (answer) resolve(answer);
        }, POLL_MS);
        asked.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
      });
      const interactive = io.stdin?.isTTY && io.stderr.isTTY;
      const fromTerminal = interactive ? ask(io.stdin!, io.stderr, asked.signal) : new Promise<never>(() => undefined);
      const stopped = new Promise<never>((_, reject) =>
        asked.signal.addEventListener('abort', () => reject(new Error('the run stopped waiting')), { once: true }),
      );
      return await Promise.race([fromFile, fromTerminal, stopped]);
    } finally {
      asked.abort();
      signal.removeEventListener('abort', stop);
      rmSync(requestFile(execution), { force: true });
    }
  };
}

async function ask(stdin: NodeJS.ReadStream, stderr: Output, signal: AbortSignal): Promise<ApprovalAnswer> {
  const rl = createInterface({ input: stdin, output: stderr as NodeJS.WritableStream });
  try {
    for (;;) {
      const line = (await rl.question('approve the rollout? [yes / no REASON]: ', { signal })).trim();
      if (/^y(es)?$/i.test(line)) return { approved: true, by: 'terminal' };
      const no = /^no?\b\s*(.*)$/i.exec(line);
      if (no) return { approved: false, reason: no[1] || 'rejected at the terminal' };
    }
  } finally {
    rl.close();
  }
}

/**
 * `sps-workflows approve|reject <execution> [--reason TEXT]`: answers a local run that waits for
 * approval. A usage error when no run of that name waits.
 */
export function answerApproval(
  decision: 'approve' | 'reject',
  execution: string,
  reason: string | undefined,
): { ok: true; message: string } | { ok: false; message: string } {
  if (!/^[\w.-]+$/.test(execution) || !existsSync(requestFile(execution))) {
    return {
      ok: false,
      message: `no local run waits for approval as ${execution} (its name is on the run's first line; runs waiting: ${waiting().join(', ') || 'none'})`,
    };
  }
  const answer: ApprovalAnswer =
    decision === 'approve'
      ? { approved: true, by: 'sps-workflows approve' }
      : { approved: false, reason: reason ?? 'rejected with sps-workflows reject' };
  writeFileSync(answerFile(execution), JSON.stringify(answer));
  return { ok: true, message: `${decision === 'approve' ? 'approved' : 'rejected'}: ${execution}` };
}

/** The local runs waiting for approval now. */
function waiting(): string[] {
  try {
    return readdirSync(APPROVALS_DIR)
      .filter((f) => f.endsWith('.request.json'))
      .map((f) => f.replace(/\.request\.json$/, ''));
  } catch {
    return [];
  }
}
