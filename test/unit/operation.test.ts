import * as z from 'zod/mini';
import { LocalSecretStore, recordingLogger, type LogRecord } from '../../local/engine/adapters';
import { operation, type Deps } from '../../lambdas/shared/operation';
import { spsOperation } from '../../lambdas/shared/sps-operation';
import { applianceSchema } from '../../lambdas/shared/input';
import { startSimulator } from '../../local/simulator';

/* The operation wrapper: event validation, error names, log keys. */

function deps(records: LogRecord[]): Deps {
  return {
    secrets: new LocalSecretStore({ 'sps/a': { username: 'u', password: 'p' } }),
    clock: { now: () => 0 },
    sessionSecretPrefix: 's/',
    credentialsSecretPrefix: 'sps/',
    logger: (keys) => recordingLogger((r) => records.push(r), keys),
    client: { retry: { attempts: 1 }, timeouts: { connectMs: 200 } },
  };
}

describe('operation', () => {
  it('rejects malformed step parameters as Internal.Error (a defect, not bad user input) and logs it by name', async () => {
    const records: LogRecord[] = [];
    const op = operation('probe', z.object({ appliance: applianceSchema }), async () => 'ok');
    await expect(op.run({ appliance: { name: 'a' } }, deps(records))).rejects.toMatchObject({
      name: 'Internal.Error',
      message: expect.stringMatching(/^probe was given invalid parameters: appliance\.endpoint: required/),
    });
    expect(records.at(-1)).toMatchObject({ level: 'ERROR', operation: 'probe', error: 'Internal.Error' });
  });

  it('refuses to run without a dependency it declared (a wiring defect): Internal.Error naming it', async () => {
    const noClient = operation('probe', z.object({ appliance: applianceSchema }), async (e, ctx) =>
      ctx.sps(e.appliance),
    );
    await expect(
      noClient.run(
        { appliance: { name: 'a', endpoint: 'https://a.example.internal', credentialsSecretId: 's' } },
        deps([]),
      ),
    ).rejects.toMatchObject({ name: 'Internal.Error', message: expect.stringContaining('not an SPS operation') });
    const needsLocks = operation('probe', z.unknown(), async (_e, ctx) => ctx.deps.locks.release('a', 'b'), ['locks']);
    await expect(needsLocks.run({}, deps([]))).rejects.toMatchObject({
      name: 'Internal.Error',
      message: 'probe is wired without locks',
    });
  });

  it('wraps unexpected errors as Internal.Error and passes contract errors through', async () => {
    const boom = operation('boom', z.unknown(), async () => {
      throw new TypeError('x is undefined');
    });
    await expect(boom.run({}, deps([]))).rejects.toMatchObject({
      name: 'Internal.Error',
      message: 'TypeError: x is undefined',
    });
  });

  it('logs a cached client with the keys of the invocation in progress, not of the first one', async () => {
    const sim = await startSimulator({ protocol: 'http' });
    try {
      const a = sim.appliances[0]!;
      const records: LogRecord[] = [];
      const d = {
        ...deps(records),
        secrets: new LocalSecretStore({
          'sps/a': { endpoint: a.endpoint, username: a.username, password: a.password, allowPlainHttp: true },
        }),
      };
      const op = spsOperation(
        'probe',
        z.object({ appliance: applianceSchema, executionId: z.string() }),
        async (e, ctx) => {
          await (await ctx.sps(e.appliance)).getInfo();
          return 'done';
        },
      );
      const ref = { name: 'a', endpoint: a.endpoint, credentialsSecretId: 'sps/a' };
      await op.run({ appliance: ref, executionId: 'first' }, d);
      const firstCount = records.length;
      await op.run({ appliance: ref, executionId: 'second' }, d);
      const requests = records.slice(firstCount).filter((r) => r.message === 'sps request');
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.map((r) => r.executionId)).toEqual(requests.map(() => 'second'));

      // Two invocations at once on one cached client (the local engine runs executions side by
      // side): every request line carries its own invocation's execution id.
      const before = records.length;
      await Promise.all(['third', 'fourth'].map((executionId) => op.run({ appliance: ref, executionId }, d)));
      const both = records.slice(before).filter((r) => r.message === 'sps request');
      expect(new Set(both.map((r) => r.executionId))).toEqual(new Set(['third', 'fourth']));
      expect(both.filter((r) => r.executionId === 'third')).toHaveLength(both.length / 2);
    } finally {
      await sim.close();
    }
  });
});
