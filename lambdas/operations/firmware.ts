import * as z from 'zod/mini';
import { errorText, NamedError, SpsApiError } from '../shared/errors';
import { applianceSchema } from '../shared/input';
import { operation } from '../shared/operation';
import { map, nonEmpty, positive, positiveInt } from '../shared/zod';
import { nextBackoffSeconds, nextPollSeconds } from '../shared/polling';
import type { FirmwareFetch, FirmwareSlot } from '../shared/sps/schemas';
import { answerLost } from '../shared/sps/client';

/*
 * The firmware operations, one Lambda each. Every event carries the appliance reference (and,
 * for logs, the execution id); results are small and secret-free.
 */

const base = { appliance: applianceSchema, executionId: z.optional(z.string()) };
const pollingSchema = z.object({ minSeconds: positiveInt(), maxSeconds: positiveInt() });
const slotId = z.union([z.string().check(z.regex(/^\d+$/)), map(z.int().check(z.nonnegative()), String)]);

/** Errors the reboot watch expects while the appliance is down or still booting. */
const REBOOT_NOISE = new Set([
  'Sps.ConnectionError',
  'Sps.RequestTimeout',
  'Sps.ServerError',
  'Sps.Unauthenticated',
  'Sps.AuthenticationFailed',
]);

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

/** `GET /api/authentication` (always a fresh login: proves the credentials now) and `GET /api/info`. */
export const authenticate = operation(
  'authenticate',
  z.object({ ...base, expectedVersion: z.nullish(z.string()) }),
  async ({ appliance, expectedVersion }, ctx) => {
    const sps = await ctx.sps(appliance);
    await sps.login();
    const info = await sps.getInfo();
    return {
      sessionSecretId: ctx.sessionSecretId(appliance),
      firmwareVersion: info.firmwareVersion ?? null,
      hostname: info.hostname,
      alreadyCurrent: Boolean(expectedVersion) && info.firmwareVersion === expectedVersion,
    };
  },
);

/**
 * `GET /api/info`. With a `deadline` it watches a reboot: connection errors, 401s and 503s mean
 * "still rebooting"; it fails with `Sps.Timeout` past the deadline and with `Sps.VersionMismatch`
 * when the appliance came back (after having gone down) on neither the previous nor the expected
 * version. Success needs
 * evidence of the reboot: the appliance was seen down, or it runs another version than before
 * (a reinstall of the running version is proven only by the appliance going down).
 */
export const getInfo = operation(
  'get-info',
  z.object({
    ...base,
    expectedVersion: z.nullish(z.string()),
    /** The version before the upgrade. */
    previousVersion: z.nullish(z.string()),
    deadline: z.optional(z.number()),
    polling: z.optional(pollingSchema),
    previous: z.optional(z.partial(z.object({ wentDown: z.boolean(), nextPollSeconds: z.number() }))),
  }),
  async ({ appliance, expectedVersion, previousVersion, deadline, polling, previous }, ctx) => {
    const sps = await ctx.sps(appliance);
    if (deadline === undefined) {
      const info = await sps.getInfo();
      return { reachable: true, firmwareVersion: info.firmwareVersion ?? null, hostname: info.hostname };
    }
    let reachable = true;
    let firmwareVersion: string | null = null;
    let lastProblem = '';
    try {
      firmwareVersion = (await sps.getInfo()).firmwareVersion ?? null;
    } catch (err) {
      if (!(err instanceof Error) || !REBOOT_NOISE.has(err.name)) throw err;
      reachable = false;
      lastProblem = err.message;
    }
    const wentDown = Boolean(previous?.wentDown) || !reachable;
    const upgraded =
      reachable && firmwareVersion === expectedVersion && (wentDown || firmwareVersion !== previousVersion);
    // Back on a third version: the upgrade went wrong. Still on the previous one: a blip before the
    // reboot (a 503, a reset) is no proof it happened, so keep watching until the deadline.
    if (!upgraded && wentDown && reachable && firmwareVersion !== previousVersion) {
      throw new NamedError(
        'Sps.VersionMismatch',
        `${appliance.name} came back from the reboot running ${firmwareVersion ?? 'an unknown version'}, expected ${expectedVersion}`,
      );
    }
    if (!upgraded && ctx.now() > deadline) {
      throw new NamedError(
        'Sps.Timeout',
        `${appliance.name} did not come back running ${expectedVersion} before the reboot deadline (${
          reachable ? `it still runs ${firmwareVersion}` : `last error: ${lastProblem}`
        })`,
      );
    }
    ctx.log.info('reboot watch', { reachable, firmwareVersion, upgraded });
    return {
      reachable,
      firmwareVersion,
      upgraded,
      wentDown,
      // Reboots take minutes: poll at least once a minute so the new version is seen soon.
      nextPollSeconds: polling ? nextBackoffSeconds(polling, previous?.nextPollSeconds, 60) : 30,
    };
  },
);

const slotSummary = (s: FirmwareSlot) => ({
  id: s.id,
  version: s.version,
  current: s.current,
  afterReboot: s.afterReboot,
  empty: s.empty,
});

/** `GET /api/firmware/slots`. */
export const listFirmwareSlots = operation('list-firmware-slots', z.object(base), async ({ appliance }, ctx) => {
  const slots = await (await ctx.sps(appliance)).listFirmwareSlots();
  return {
    slots: slots.slots.map(slotSummary),
    currentSlotId: slots.current?.id ?? null,
    afterRebootSlotId: slots.afterReboot?.id ?? null,
    emptyCount: slots.emptyCount,
  };
});

/** `DELETE /api/firmware/slots/<id>` (SPS refuses the current and the after-reboot slot). */
export const deleteFirmwareSlot = operation(
  'delete-firmware-slot',
  z.object({ ...base, slotId }),
  async ({ appliance, slotId }, ctx) => {
    await (await ctx.sps(appliance)).deleteFirmwareSlot(slotId);
    return { slotId, deleted: true };
  },
);

/** Compares dotted versions numerically ("7.10" > "7.9"). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(/\D+/).filter(Boolean).map(Number);
  const pb = b.split(/\D+/).filter(Boolean).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Reuses a fetch of the same URL that is queued, in progress or finished (into a slot that still
 * holds its image); otherwise needs an empty slot (`Sps.NoEmptySlot`, or with `freeOldestSlot` the
 * lowest version that is neither current nor after-reboot is deleted) and starts a new fetch.
 */
export const startFirmwareFetch = operation(
  'start-firmware-fetch',
  z.object({
    ...base,
    firmware: z.object({ url: z.string(), sha256: z.string() }),
    freeOldestSlot: z._default(z.boolean(), false),
    fetchMinutes: positive(),
  }),
  async ({ appliance, firmware, freeOldestSlot, fetchMinutes }, ctx) => {
    const sps = await ctx.sps(appliance);
    const deadline = ctx.now() + fetchMinutes * 60_000;
    const [fetches, slots] = await Promise.all([sps.listFirmwareFetches(), sps.listFirmwareSlots()]);
    // A finished fetch still holds its image only if its slot is filled, not running (an upgrade
    // since made it current) and no later fetch went into it.
    const holding = new Set(slots.slots.filter((s) => !s.empty && !s.current).map((s) => s.id));
    const latestBySlot = new Map<string, FirmwareFetch>();
    for (const f of fetches) {
      const before = f.slotId === null ? undefined : latestBySlot.get(f.slotId);
      if (f.slotId !== null && (!before || (f.startTime ?? '') > (before.startTime ?? '')))
        latestBySlot.set(f.slotId, f);
    }
    const reusable = fetches.find(
      (f) =>
        f.url === firmware.url &&
        (f.status === 'queued' ||
          f.status === 'in-progress' ||
          (f.status === 'finished' && f.slotId !== null && holding.has(f.slotId) && latestBySlot.get(f.slotId) === f)),
    );
    if (reusable) {
      ctx.log.info('reusing firmware fetch', { key: reusable.key, status: reusable.status });
      return { key: reusable.key, reused: true, freedSlotId: null, deadline };
    }
    let freedSlotId: string | null = null;
    if (slots.emptyCount === 0) {
      const candidates = slots.slots
        .filter((s) => !s.empty && !s.current && !s.afterReboot)
        .sort((a, b) => compareVersions(a.version ?? '', b.version ?? ''));
      const oldest = candidates[0];
      if (!freeOldestSlot || !oldest) {
        throw new NamedError(
          'Sps.NoEmptySlot',
          `${appliance.name} has no empty firmware slot (${slots.slots.length} slots, all in use)${
            oldest
              ? `: delete one (slot ${oldest.id} holds ${oldest.version}) or set options.freeOldestSlot`
              : ' and none can be freed'
          }`,
        );
      }
      await sps.deleteFirmwareSlot(oldest.id);
      freedSlotId = oldest.id;
      ctx.log.info('freed firmware slot', { slotId: oldest.id, version: oldest.version });
    }
    const key = await sps.startFirmwareFetch(firmware.url, firmware.sha256);
    return { key, reused: false, freedSlotId, deadline };
  },
);

/**
 * `GET /api/firmware/fetch/<key>`: progress and the wait before the next poll. `failed` and
 * `canceled` end in `Sps.FetchFailed` with the appliance's own error text; past the deadline,
 * `Sps.Timeout`.
 */
export const getFirmwareFetchStatus = operation(
  'get-firmware-fetch-status',
  z.object({
    ...base,
    key: nonEmpty(),
    deadline: z.number(),
    polling: pollingSchema,
    previous: z.optional(
      z.partial(z.object({ bytesDownloaded: z.number(), bytesTotal: z.number(), observedAt: z.number() })),
    ),
  }),
  async ({ appliance, key, deadline, polling, previous }, ctx) => {
    const job = await (await ctx.sps(appliance)).getFirmwareFetch(key);
    const observedAt = ctx.now();
    if (job.status === 'failed' || job.status === 'canceled') {
      throw new NamedError(
        'Sps.FetchFailed',
        `Firmware fetch ${key} of ${job.url} ${job.status === 'failed' ? 'failed' : 'was canceled'} on ${appliance.name}: ${
          job.error ?? job.info ?? 'no error text'
        }`,
      );
    }
    if (job.status !== 'finished' && observedAt > deadline) {
      throw new NamedError(
        'Sps.Timeout',
        `Firmware fetch ${key} on ${appliance.name} did not finish in time (${job.status}, ${job.bytesDownloaded} of ${job.bytesTotal} bytes)`,
      );
    }
    const now = { bytesDone: job.bytesDownloaded, bytesTotal: job.bytesTotal, observedAt };
    const before =
      previous?.bytesDownloaded !== undefined && previous.observedAt !== undefined
        ? {
            bytesDone: previous.bytesDownloaded,
            bytesTotal: previous.bytesTotal ?? job.bytesTotal,
            observedAt: previous.observedAt,
          }
        : undefined;
    return {
      key,
      status: job.status,
      info: job.info,
      bytesDownloaded: job.bytesDownloaded,
      bytesTotal: job.bytesTotal,
      percent: job.bytesTotal > 0 ? Math.floor((job.bytesDownloaded / job.bytesTotal) * 100) : 0,
      slotId: job.slotId,
      observedAt,
      nextPollSeconds: job.status === 'finished' ? 0 : nextPollSeconds(polling, now, before),
    };
  },
);

/** Cancels the fetch if it is still queued or running; a finished or missing one is left alone. */
export const cancelFirmwareFetch = operation(
  'cancel-firmware-fetch',
  z.object({ ...base, key: nonEmpty() }),
  async ({ appliance, key }, ctx) => {
    const sps = await ctx.sps(appliance);
    try {
      const job = await sps.getFirmwareFetch(key);
      if (job.status !== 'queued' && job.status !== 'in-progress') return { key, canceled: false, status: job.status };
      await sps.deleteFirmwareFetch(key);
      return { key, canceled: true, status: 'canceled' };
    } catch (err) {
      if (err instanceof SpsApiError && err.name === 'Sps.NotFound') return { key, canceled: false, status: 'gone' };
      throw err;
    }
  },
);

/**
 * The precheck (`POST /api/firmware/test`) of the slot the fetch filled. The slot must hold
 * `expectedVersion` when one is given (`Sps.VersionMismatch`); a failing test ends in
 * `Sps.PrecheckFailed` carrying the appliance's `test_summary`.
 */
export const testFirmware = operation(
  'test-firmware',
  z.object({ ...base, slotId, expectedVersion: z.nullish(z.string()) }),
  async ({ appliance, slotId, expectedVersion }, ctx) => {
    const sps = await ctx.sps(appliance);
    const slot = await sps.getFirmwareSlot(slotId);
    if (slot.empty) {
      throw new NamedError('Sps.FetchFailed', `Firmware slot ${slotId} on ${appliance.name} is empty after the fetch`);
    }
    if (expectedVersion && slot.version !== expectedVersion) {
      throw new NamedError(
        'Sps.VersionMismatch',
        `Firmware slot ${slotId} on ${appliance.name} holds ${slot.version}, expected ${expectedVersion}: check firmware.url`,
      );
    }
    const result = await sps.testFirmware(slotId);
    return { slotId, slotVersion: slot.version, testSummary: result.testSummary };
  },
);

/** `POST /api/firmware/upgrade`; the appliance reboots into the slot. Returns the reboot deadline. */
export const upgradeFirmware = operation(
  'upgrade-firmware',
  z.object({ ...base, slotId, message: nonEmpty(), rebootMinutes: positive() }),
  async ({ appliance, slotId, message, rebootMinutes }, ctx) => {
    const deadline = ctx.now() + rebootMinutes * 60_000;
    let accepted: { slotId: string; testSummary: string | null };
    try {
      const result = await (await ctx.sps(appliance)).upgradeFirmware(slotId, message);
      accepted = { slotId: result.slotId || slotId, testSummary: result.testSummary };
    } catch (err) {
      // The POST went out but its answer was lost (the connection reset, or no answer in time): the
      // appliance may well be rebooting into the new firmware. Failing now would report a failure
      // while it upgrades; the reboot watch decides instead, by its evidence rules or its deadline.
      if (!answerLost(err)) throw err;
      ctx.log.warn('upgrade answer lost, watching the reboot', { slotId, error: errorText(err) });
      accepted = { slotId, testSummary: null };
    }
    ctx.log.info('upgrade accepted, appliance reboots', { slotId, rebootWithin: minutes(rebootMinutes * 60_000) });
    return { ...accepted, rebootDeadline: deadline };
  },
);
