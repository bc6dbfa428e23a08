import * as z from 'zod/mini';
import { NamedError } from '../shared/errors';
import { operation } from '../shared/operation';
import { nonEmpty } from '../shared/zod';

/*
 * One workflow at a time per appliance: every execution takes its appliance right after validating
 * its input and gives it up on every end, success or failure. A second execution for the same
 * appliance waits (the state machine retries `Sps.Busy`) and then fails with `Sps.Busy`.
 */

const params = z.object({ applianceName: nonEmpty(), executionId: nonEmpty() });

export const acquireApplianceLock = operation(
  'acquire-appliance-lock',
  params,
  async ({ applianceName, executionId }, ctx) => {
    const holder = await ctx.deps.locks.acquire(applianceName, executionId);
    if (holder) {
      throw new NamedError('Sps.Busy', `${applianceName} is busy: execution ${holder} is working on it`);
    }
    ctx.log.info('appliance taken');
    return { held: true };
  },
  ['locks'],
);

export const releaseApplianceLock = operation(
  'release-appliance-lock',
  params,
  async ({ applianceName, executionId }, ctx) => {
    await ctx.deps.locks.release(applianceName, executionId);
    ctx.log.info('appliance released');
    return { released: true };
  },
  ['locks'],
);
