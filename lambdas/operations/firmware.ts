import * as z from 'zod/mini';
import { errorText, isContractError, NamedError, SpsNotFoundError, type ErrorName } from '../shared/errors';
import { applianceSchema } from '../shared/input';
import type { OperationContext } from '../shared/operation';
import { spsOperation } from '../shared/sps-operation';
import { map, nonEmpty, positive, positiveInt } from '../shared/zod';
import { nextBackoffSeconds, nextPollSeconds } from '../shared/polling';
import { upgradeOutcomeUnknown, type SpsClient } from '../shared/sps/client';
import { NO_EVIDENCE, observe, rebootVerdict, type RebootEvidence, type RebootReading } from '../shared/reboot';
import { firmwareSource } from '../shared/firmware-source';
import { sameVersion } from '../shared/versions';

/*
 * The firmware operations, one Lambda each. Every event carries the appliance reference (and,
 * for logs, the execution id); results are small and secret-free.
 */

const base = { appliance: applianceSchema, executionId: z.optional(z.string()) };
const pollingSchema = z.object({ minSeconds: positiveInt(), maxSeconds: positiveInt() });
const slotId = z.union([z.string().check(z.regex(/^\d+$/)), map(z.int().check(z.nonnegative()), String)]);

/**
 * Errors the reboot watch expects while the appliance is down or still booting: no answer, a
 * gateway's 5xx or HTML page, a web server up before the REST API (404), logins refused.
 */
const REBOOT_NOISE = new Set<ErrorName>([
  'Sps.ConnectionError',
  'Sps.RequestTimeout',
  'Sps.ServerError',
  'Sps.InvalidResponse',
  'Sps.NotFound',
  'Sps.Unauthenticated',
  'Sps.AuthenticationFailed',
]);

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

/** `GET /api/authentication` (always a fresh login: proves the credentials now) and `GET /api/info`. */
export const authenticate = spsOperation(
  'authenticate',
  z.object({ ...base, expectedVersion: z.nullish(z.string()) }),
  async ({ appliance, expectedVersion }, ctx) => {
    const sps = await ctx.sps(appliance);
    await sps.login();
    const info = await sps.getInfo();
    if (info.firmwareVersion === undefined) {
      throw new NamedError(
        'Sps.InvalidResponse',
        `${appliance.name} gives no firmware_version in /api/info even right after a login: check that the user's group may read Basic Settings`,
      );
    }
    return {
      sessionSecretId: ctx.sessionSecretId(appliance),
      firmwareVersion: info.firmwareVersion,
      hostname: info.hostname,
      alreadyCurrent: sameVersion(info.firmwareVersion, expectedVersion),
    };
  },
);

/**
 * The reboot watch: `GET /api/info` after the upgrade POST (rules in
 * shared/reboot.ts): the first read, and every read once the appliance was seen down, follows a
 * fresh login (a reboot ends every session); connection errors, 5xx and refused logins count as
 * down; an answer without a version is counted apart, never compared. Each answer also reads the
 * slots: the target slot marked to boot next is the evidence that the appliance took the upgrade,
 * and it must be current for the upgrade to count. Ends in `Sps.UpgradeReverted` (back on the
 * previous version and slot), `Sps.VersionMismatch` (back on a third version) or, past the
 * deadline, `Sps.Timeout` with what was seen.
 */
export const getInfo = spsOperation(
  'get-info',
  z.object({
    ...base,
    /** The version the target slot holds. */
    expectedVersion: nonEmpty(),
    /** The version before the upgrade. */
    previousVersion: z.nullish(z.string()),
    /** The slot the upgrade boots into. */
    slotId,
    deadline: z.number(),
    polling: pollingSchema,
    previous: z.optional(
      z.partial(
        z.object({
          polls: z.number(),
          wentDown: z.boolean(),
          downPolls: z.number(),
          noVersionPolls: z.number(),
          accepted: z.boolean(),
          lastVersion: z.nullable(z.string()),
          nextPollSeconds: z.number(),
        }),
      ),
    ),
  }),
  async ({ appliance, expectedVersion, previousVersion, slotId, deadline, polling, previous }, ctx) => {
    const sps = await ctx.sps(appliance);
    const before: RebootEvidence = { ...NO_EVIDENCE, ...previous };
    let reading: RebootReading;
    try {
      if (before.polls === 0 || before.wentDown) await sps.login();
      const info = await sps.getInfo();
      if (info.firmwareVersion === undefined) {
        reading = { kind: 'no-version' };
      } else {
        const slots = await sps.listFirmwareSlots();
        const target = slots.slots.find((s) => s.id === slotId);
        reading = {
          kind: 'running',
          version: info.firmwareVersion,
          target: target ? { current: target.current, afterReboot: target.afterReboot } : null,
          currentSlotVersion: slots.current?.version ?? null,
        };
      }
    } catch (err) {
      if (!(isContractError(err) && REBOOT_NOISE.has(err.name))) throw err;
      reading = { kind: 'down', problem: err.message };
    }
    const evidence = observe(before, reading);
    const verdict = rebootVerdict(evidence, reading, { previousVersion: previousVersion ?? null, expectedVersion });
    const seen = `${evidence.polls} polls: ${evidence.downPolls} down, ${evidence.noVersionPolls} answered without a version`;
    if (verdict === 'reverted') {
      throw new NamedError(
        'Sps.UpgradeReverted',
        `${appliance.name} rebooted and came back on the previous version ${previousVersion} from its previous slot; slot ${slotId} (${expectedVersion}) is no longer set to boot: the appliance reverted the upgrade (check its console and logs before trying again)`,
      );
    }
    if (verdict === 'other-version') {
      throw new NamedError(
        'Sps.VersionMismatch',
        `${appliance.name} came back from the reboot running ${evidence.lastVersion}, expected ${expectedVersion}`,
      );
    }
    if (verdict === 'watching' && ctx.now() > deadline) {
      const now =
        reading.kind === 'down'
          ? `last error: ${reading.problem}`
          : reading.kind === 'no-version'
            ? 'it answers but gives no firmware version, even to a fresh login'
            : `it runs ${reading.version}`;
      const acceptance = evidence.accepted
        ? `slot ${slotId} was set to boot next`
        : `slot ${slotId} was never seen set to boot next: the upgrade request may not have been carried out`;
      throw new NamedError(
        'Sps.Timeout',
        `${appliance.name} did not come back running ${expectedVersion} before the reboot deadline (${now}; ${acceptance}; ${seen})`,
      );
    }
    ctx.log.info('reboot watch', {
      reading: reading.kind,
      firmwareVersion: reading.kind === 'running' ? reading.version : null,
      accepted: evidence.accepted,
      wentDown: evidence.wentDown,
      polls: evidence.polls,
      downPolls: evidence.downPolls,
      noVersionPolls: evidence.noVersionPolls,
      verdict,
    });
    return {
      ...evidence,
      reading: reading.kind,
      reachable: reading.kind !== 'down',
      firmwareVersion: reading.kind === 'running' ? reading.version : null,
      upgraded: verdict === 'upgraded',
      // Reboots take minutes: poll at least once a minute so the new version is seen soon.
      nextPollSeconds: nextBackoffSeconds(polling, previous?.nextPollSeconds, 60),
    };
  },
);

/**
 * Makes sure a slot will hold the firmware, changing as little as possible. With
 * `expectedVersion`, a slot that already holds that version is used as it is (the precheck checks
 * the slot's version again), and a queued or running fetch of the same URL, someone else's too, is
 * followed instead of starting another. SPS lists no checksum, so without `expectedVersion` nothing
 * is reused: the run fetches under its own sha256 pin. A new fetch needs an empty slot
 * (`Sps.NoEmptySlot`); with `freeOldestSlot` the lowest version that is neither current nor
 * after-reboot is deleted right before the fetch, never on a dry run.
 */
export const startFirmwareFetch = spsOperation(
  'start-firmware-fetch',
  z.object({
    ...base,
    firmware: z.object({ url: z.string(), sha256: z.string(), expectedVersion: z.nullish(z.string()) }),
    freeOldestSlot: z._default(z.boolean(), false),
    dryRun: z._default(z.boolean(), false),
    fetchMinutes: positive(),
    polling: pollingSchema,
  }),
  async ({ appliance, firmware, freeOldestSlot, dryRun, fetchMinutes, polling }, ctx) => {
    const sps = await ctx.sps(appliance);
    const deadline = ctx.now() + fetchMinutes * 60_000;
    // A download just started has no progress to see yet: the first status poll waits the minimum.
    const started = { status: 'started', nextPollSeconds: polling.minSeconds };
    const [fetches, slots] = await Promise.all([sps.listFirmwareFetches(), sps.listFirmwareSlots()]);
    const source = firmwareSource(slots, fetches, {
      ...firmware,
      expectedVersion: firmware.expectedVersion ?? null,
      freeOldestSlot,
      dryRun,
    });
    if (source.kind === 'slot') {
      ctx.log.info('firmware already in a slot', { slotId: source.slot.id, version: source.slot.version });
      const progress = { status: 'finished', slotId: source.slot.id, nextPollSeconds: 0 };
      return { key: null, reused: true, freedSlot: null, deadline, progress };
    }
    if (source.kind === 'follow') {
      ctx.log.info('following a running firmware fetch', { key: source.fetch.key, status: source.fetch.status });
      return { key: source.fetch.key, reused: true, freedSlot: null, deadline, progress: started };
    }
    if (source.kind === 'no-slot') {
      const { candidate } = source;
      const advice = !candidate
        ? ' and none can be freed'
        : dryRun
          ? `: a dry run frees no slot (without dryRun, freeOldestSlot would delete slot ${candidate.id}, which holds ${candidate.version})`
          : `: delete one (slot ${candidate.id} holds ${candidate.version}) or set options.freeOldestSlot`;
      throw new NamedError(
        'Sps.NoEmptySlot',
        `${appliance.name} has no empty firmware slot (${slots.slots.length} slots, all in use)${advice}`,
      );
    }
    let freedSlot: { slotId: string; version: string | null } | null = null;
    if (source.free) {
      await sps.deleteFirmwareSlot(source.free.id);
      freedSlot = { slotId: source.free.id, version: source.free.version };
      ctx.log.info('freed firmware slot', freedSlot);
    }
    const key = await sps.startFirmwareFetch(firmware.url, firmware.sha256);
    ctx.log.info('started firmware fetch', { key });
    return { key, reused: false, freedSlot, deadline, progress: started };
  },
);

/**
 * `GET /api/firmware/fetch/<key>`: progress and the wait before the next poll. `failed` and
 * `canceled` end in `Sps.FetchFailed` with the appliance's own error text; past the deadline,
 * `Sps.Timeout`.
 */
export const getFirmwareFetchStatus = spsOperation(
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

/**
 * Cleans up a fetch this execution started: a queued or running one is canceled (the first DELETE)
 * and its record removed (a second DELETE, as the docs say); a finished, failed or canceled one
 * only loses its record. A fetch this execution reused is someone else's: it is left alone.
 */
export const cancelFirmwareFetch = spsOperation(
  'cancel-firmware-fetch',
  z.object({ ...base, key: z.nullable(nonEmpty()), reused: z._default(z.boolean(), false) }),
  async ({ appliance, key, reused }, ctx) => {
    if (reused || key === null) return { key, canceled: false, status: 'not ours' };
    return forgetFetch(await ctx.sps(appliance), key, ctx);
  },
);

async function forgetFetch(
  sps: SpsClient,
  key: string,
  ctx: OperationContext,
): Promise<{ key: string; canceled: boolean; status: string }> {
  const gone = { key, canceled: false, status: 'gone' };
  try {
    const job = await sps.getFirmwareFetch(key);
    const running = job.status === 'queued' || job.status === 'in-progress';
    await sps.deleteFirmwareFetch(key);
    if (running && ['queued', 'in-progress'].includes((await sps.getFirmwareFetch(key)).status)) {
      ctx.log.warn('firmware fetch still running after its cancel; its record stays', { key });
      return { key, canceled: true, status: 'canceling' };
    }
    if (running) await sps.deleteFirmwareFetch(key);
    ctx.log.info(running ? 'canceled firmware fetch and removed its record' : 'removed firmware fetch record', {
      key,
      status: job.status,
    });
    return { key, canceled: running, status: running ? 'canceled' : job.status };
  } catch (err) {
    if (err instanceof SpsNotFoundError) return gone;
    throw err;
  }
}

/**
 * The precheck (`POST /api/firmware/test`) of the slot the fetch filled. The slot must hold
 * `expectedVersion` when one is given (`Sps.VersionMismatch`); a failing test ends in
 * `Sps.PrecheckFailed` carrying the appliance's `test_summary`. Without `expectedVersion`, a slot
 * holding the version already running (a replayed run) is not upgraded: the duplicate slot this
 * run filled is deleted and the run ends `already-current`. The record of a fetch this run started
 * is removed once its slot is known.
 */
export const testFirmware = spsOperation(
  'test-firmware',
  z.object({
    ...base,
    slotId,
    expectedVersion: z.nullish(z.string()),
    runningVersion: z.nullish(z.string()),
    fetch: z.object({ key: z.nullable(nonEmpty()), reused: z.boolean() }),
  }),
  async ({ appliance, slotId, expectedVersion, runningVersion, fetch }, ctx) => {
    const sps = await ctx.sps(appliance);
    const slot = await sps.getFirmwareSlot(slotId);
    if (slot.empty) {
      throw new NamedError('Sps.FetchFailed', `Firmware slot ${slotId} on ${appliance.name} is empty after the fetch`);
    }
    if (expectedVersion && !sameVersion(slot.version, expectedVersion)) {
      throw new NamedError(
        'Sps.VersionMismatch',
        `Firmware slot ${slotId} on ${appliance.name} holds ${slot.version}, expected ${expectedVersion}: check firmware.url`,
      );
    }
    const alreadyRunning = !expectedVersion && !fetch.reused && sameVersion(slot.version, runningVersion);
    if (alreadyRunning) {
      await sps.deleteFirmwareSlot(slotId);
      ctx.log.info('fetched the version already running: removed the duplicate slot', { slotId });
    }
    const result = alreadyRunning ? undefined : await sps.testFirmware(slotId);
    if (!fetch.reused && fetch.key !== null) await forgetFetch(sps, fetch.key, ctx);
    return {
      slotId,
      slotVersion: slot.version,
      testSummary: result?.testSummary ?? null,
      alreadyRunning,
      removedSlotId: alreadyRunning ? slotId : null,
    };
  },
);

/**
 * `POST /api/firmware/upgrade`; the appliance reboots into the slot. Returns the reboot deadline.
 * Once the POST went out, only the API's own error envelope fails the step: anything an appliance
 * going down answers (a lost answer, a gateway's 5xx, an HTML page) hands over to the reboot
 * watch, whose evidence rules or deadline decide.
 */
export const upgradeFirmware = spsOperation(
  'upgrade-firmware',
  z.object({
    ...base,
    slotId,
    message: nonEmpty(),
    rebootMinutes: positive(),
    /** The configuration the preflight checked (`config_hash`); null: no preflight ran. */
    configHash: z._default(z.nullable(z.string()), null),
  }),
  async ({ appliance, slotId, message, rebootMinutes, configHash }, ctx) => {
    if (configHash !== null) {
      // Someone may have changed the configuration since the checks: the run would upgrade an
      // appliance nobody checked.
      const now = (await (await ctx.sps(appliance)).getInfo()).configHash ?? null;
      if (now !== configHash) {
        throw new NamedError(
          'Sps.PreflightFailed',
          `The configuration of ${appliance.name} changed after the preflight (config_hash ${configHash} → ${now ?? 'not reported'}); nothing was upgraded: review the change and run again`,
        );
      }
    }
    const deadline = ctx.now() + rebootMinutes * 60_000;
    let accepted: { slotId: string; testSummary: string | null; answer: 'accepted' | 'unknown' };
    try {
      const result = await (await ctx.sps(appliance)).upgradeFirmware(slotId, message);
      accepted = { slotId, testSummary: result.testSummary, answer: 'accepted' };
      if (result.slotId !== null && result.slotId !== slotId) {
        ctx.log.warn('upgrade answer names another slot; watching the one requested', {
          slotId,
          answeredSlotId: result.slotId,
        });
      }
    } catch (err) {
      if (!upgradeOutcomeUnknown(err)) throw err;
      ctx.log.warn('upgrade answer lost or not from the SPS API, watching the reboot', {
        slotId,
        error: errorText(err),
      });
      accepted = { slotId, testSummary: null, answer: 'unknown' };
    }
    ctx.log.info('upgrade requested, appliance reboots', { slotId, rebootWithin: minutes(rebootMinutes * 60_000) });
    return { ...accepted, rebootDeadline: deadline };
  },
);
