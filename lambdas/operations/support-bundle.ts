import * as z from 'zod/mini';
import { NamedError, SpsNotFoundError } from '../shared/errors';
import { applianceSchema } from '../shared/input';
import { spsOperation } from '../shared/sps-operation';
import { nonEmpty, positive, positiveInt } from '../shared/zod';
import { newBundleJob } from '../shared/bundle-jobs';
import { nextBackoffSeconds } from '../shared/polling';
import type { SupportBundle } from '../shared/sps/schemas';

/*
 * The support-bundle operations, one Lambda each (the archive step, the only one that moves data,
 * is in archive.ts: it alone needs the S3 upload code).
 */

const base = { appliance: applianceSchema, executionId: z.optional(z.string()) };
const pollingSchema = z.object({ minSeconds: positiveInt(), maxSeconds: positiveInt() });

/**
 * Lists the jobs, POSTs a new one and returns the key that was not there before: another job may
 * already be running (SPS queues the new one behind it).
 */
export const createSupportBundle = spsOperation(
  'create-support-bundle',
  z.object({ ...base, generateMinutes: positive() }),
  async ({ appliance, generateMinutes }, ctx) => {
    const sps = await ctx.sps(appliance);
    const keys = async () => (await sps.listSupportBundles()).map((b) => b.key);
    const before = await keys();
    const answered = await sps.createSupportBundle();
    let job = newBundleJob(before, answered);
    if (job.kind === 'list-again') job = newBundleJob(before, answered, await keys());
    if (job.kind !== 'found') {
      throw new NamedError(
        'Sps.BundleFailed',
        `Cannot tell which support bundle job ${appliance.name} created (${job.kind === 'ambiguous' ? job.newJobs : 0} new jobs)`,
      );
    }
    const { key } = job;
    ctx.log.info('support bundle requested', { key, jobsAlreadyThere: before.length });
    // requestedAt dates the archive's S3 key: fixed here, a retried archive overwrites its own object.
    const requestedAt = ctx.now();
    return { key, requestedAt, deadline: requestedAt + generateMinutes * 60_000, progress: {} };
  },
);

/**
 * `GET …/support-bundle/<key>`: `failed` ends in `Sps.BundleFailed` with the appliance's error
 * text at once; past the deadline, `Sps.Timeout`. Bundles report no progress, so the wait backs
 * off from the minimum.
 */
export const getSupportBundleStatus = spsOperation(
  'get-support-bundle-status',
  z.object({
    ...base,
    key: nonEmpty(),
    deadline: z.number(),
    polling: pollingSchema,
    previous: z.optional(z.partial(z.object({ nextPollSeconds: z.number() }))),
  }),
  async ({ appliance, key, deadline, polling, previous }, ctx) => {
    let bundle: SupportBundle;
    try {
      bundle = await (await ctx.sps(appliance)).getSupportBundle(key);
    } catch (err) {
      if (err instanceof SpsNotFoundError) {
        throw new NamedError('Sps.BundleFailed', `Support bundle job ${key} disappeared from ${appliance.name}`);
      }
      throw err;
    }
    if (bundle.status === 'failed') {
      throw new NamedError(
        'Sps.BundleFailed',
        `Support bundle ${key} failed on ${appliance.name}: ${bundle.error ?? bundle.info ?? 'no error text'}`,
      );
    }
    if (bundle.status !== 'finished' && ctx.now() > deadline) {
      throw new NamedError(
        'Sps.Timeout',
        `Support bundle ${key} on ${appliance.name} was not ready in time (${bundle.status})`,
      );
    }
    return {
      key,
      status: bundle.status,
      fileName: bundle.fileName,
      nextPollSeconds: bundle.status === 'finished' ? 0 : nextBackoffSeconds(polling, previous?.nextPollSeconds),
    };
  },
);

/** Removes the bundle (or cancels its generation); one that is already gone is fine. */
export const deleteSupportBundle = spsOperation(
  'delete-support-bundle',
  z.object({ ...base, key: nonEmpty() }),
  async ({ appliance, key }, ctx) => {
    try {
      await (await ctx.sps(appliance)).deleteSupportBundle(key);
      return { key, deleted: true };
    } catch (err) {
      if (err instanceof SpsNotFoundError) return { key, deleted: false };
      throw err;
    }
  },
);
