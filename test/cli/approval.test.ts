import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerApproval, APPROVALS_DIR, localApprover } from '../../local/run/approval';
import { main } from '../../local/cli/main';

/*
 * A local fleet upgrade waiting for approval, answered by `sps-workflows approve|reject` from
 * another shell: the request file names the execution and holds no token.
 */

const home = process.cwd();
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'approval-'));
  process.chdir(dir);
});
afterEach(() => {
  process.chdir(home);
  rmSync(dir, { recursive: true, force: true });
});

const request = (token: string) => ({
  executionId: 'arn:aws:states:us-east-1:123456789012:execution:sps-workflows-fleet-upgrade:run-1',
  taskToken: token,
  timeoutSeconds: 600,
  detail: {
    taskToken: token,
    firmware: { expectedVersion: '8.0.1' },
    waves: [{ kind: 'cluster', cluster: 'east', appliances: ['east-2', 'east-1'] }],
    upgraded: [],
    stage: { summary: { total: 2, succeeded: 2, failed: 0 }, execution: 'arn:…' },
  },
});

function captured() {
  const text: string[] = [];
  return { write: (s: string) => text.push(s), text: () => text.join('') };
}

describe('local approval', () => {
  it('shows the plan, waits, and takes the answer of `approve` from another shell; the token stays out of the files', async () => {
    const stderr = captured();
    const waiting = localApprover({ stderr }, 'run-1')(request('secret-token-1'), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    const file = join(APPROVALS_DIR, 'run-1.request.json');
    expect(readFileSync(file, 'utf8')).not.toContain('secret-token-1');
    expect(stderr.text()).toContain('wave 1 (cluster east, in this order): east-2, east-1');
    expect(stderr.text()).toContain('sps-workflows approve run-1');
    expect(stderr.text()).not.toContain('secret-token-1');
    expect(answerApproval('approve', 'run-1', undefined)).toEqual({ ok: true, message: 'approved: run-1' });
    await expect(waiting).resolves.toEqual({ approved: true, by: 'sps-workflows approve' });
    expect(existsSync(file)).toBe(false);
  });

  it('takes a rejection with its reason, through the CLI', async () => {
    const waiting = localApprover({ stderr: captured() }, 'run-2')(request('t'), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    await expect(main(['reject', 'run-2', '--reason', 'change freeze'])).resolves.toBe(0);
    await expect(waiting).resolves.toEqual({ approved: false, reason: 'change freeze' });
  });

  it('refuses to answer a run that does not wait (a usage error naming the runs that do)', async () => {
    expect(answerApproval('approve', 'run-9', undefined)).toEqual({
      ok: false,
      message: expect.stringContaining('no local run waits for approval as run-9'),
    });
    await expect(main(['approve', '../etc'])).resolves.toBe(2);
  });

  it('stops waiting, and withdraws its request, when the run is stopped', async () => {
    const stop = new AbortController();
    const waiting = localApprover({ stderr: captured() }, 'run-3')(request('t'), stop.signal);
    await new Promise((r) => setTimeout(r, 50));
    stop.abort();
    await expect(waiting).rejects.toThrow('the run stopped waiting');
    expect(answerApproval('approve', 'run-3', undefined).ok).toBe(false);
  });
});
