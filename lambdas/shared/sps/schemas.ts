import * as z from 'zod/mini';
import { map } from '../zod';

/*
 * Response schemas written from the vendor samples (test/fixtures/sps). Unknown fields are
 * allowed everywhere (appliances add fields between releases); the fields the workflows rely
 * on are checked, then normalized to camelCase domain objects.
 */

/** Slot ids and slot versions arrive as strings in the samples, as numbers in the field tables. */
const stringish = map(z.union([z.string(), z.number()]), String);
const nullableString = map(z.nullish(z.string()), (v) => v ?? null);
/**
 * A list of everyone's items: an item that does not parse is left out rather than failing the
 * list (only our own item, read on its own, is held to the schema).
 */
function lenientList<T>(item: z.ZodMiniType<T>) {
  return map(z.looseObject({ items: z.array(z.unknown()) }), ({ items }) =>
    items.flatMap((raw) => {
      const parsed = item.safeParse(raw);
      return parsed.success ? [parsed.data] : [];
    }),
  );
}

const meta = z.looseObject({ href: z.optional(z.string()), remaining_seconds: z.optional(z.number()) });

export const errorEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    type: z.string(),
    message: z.optional(z.string()),
    details: z.optional(z.unknown()),
  }),
});

export const infoSchema = map(
  z.looseObject({
    body: z.looseObject({
      hostname: z.string(),
      domainname: z.nullish(z.string()),
      nickname: z.nullish(z.string()),
      firmware_version: z.nullish(stringish),
      version: z.nullish(stringish),
      build_date: z.nullish(z.string()),
    }),
    meta: z.optional(meta),
  }),
  ({ body }) => ({
    hostname: body.hostname,
    domainName: body.domainname ?? null,
    nickname: body.nickname ?? null,
    /** Present only for authenticated callers (null and missing alike). */
    firmwareVersion: body.firmware_version ?? undefined,
    releaseName: body.version ?? undefined,
    buildDate: body.build_date ?? undefined,
  }),
);
export type ApplianceInfo = z.output<typeof infoSchema>;

export const firmwareEndpointsSchema = map(
  z.looseObject({ items: z.array(z.looseObject({ key: z.string() })) }),
  ({ items }) => items.map((i) => i.key),
);

const slotSchema = map(
  z.looseObject({
    key: stringish,
    body: z.looseObject({
      version: z.nullish(stringish),
      current: z.nullish(z.boolean()),
      after_reboot: z.nullish(z.boolean()),
      upgrade_notes: z.nullish(z.string()),
      upgrade_news: z.nullish(z.string()),
    }),
  }),
  ({ key, body }) => ({
    id: key,
    /** An empty slot has `body: {}`. */
    empty: body.version === undefined || body.version === null,
    version: body.version ?? null,
    current: body.current ?? false,
    afterReboot: body.after_reboot ?? false,
  }),
);
export type FirmwareSlot = z.output<typeof slotSchema>;
export const firmwareSlotSchema = slotSchema;

export const firmwareSlotsSchema = map(
  z.looseObject({
    items: z.array(slotSchema),
    meta: z.optional(z.looseObject({ number_of_empty_slots: z.optional(z.number()) })),
  }),
  ({ items, meta }) => ({
    slots: items,
    current: items.find((s) => s.current) ?? null,
    afterReboot: items.find((s) => s.afterReboot) ?? null,
    emptyCount: meta?.number_of_empty_slots ?? items.filter((s) => s.empty).length,
  }),
);
export type FirmwareSlots = z.output<typeof firmwareSlotsSchema>;

export const FETCH_STATUSES = ['queued', 'in-progress', 'finished', 'failed', 'canceled'] as const;
export type FetchStatus = (typeof FETCH_STATUSES)[number];

const fetchJob = <S extends z.ZodMiniType<string>>(status: S) =>
  map(
    z.looseObject({
      key: z.string(),
      body: z.looseObject({
        status,
        url: nullableString,
        bytes_downloaded: z.nullish(z.number()),
        bytes_total: z.nullish(z.number()),
        error: nullableString,
        info: nullableString,
        slot_id: z.nullish(stringish),
        start_time: nullableString,
      }),
    }),
    ({ key, body }) => ({
      key,
      status: body.status as z.output<S>,
      url: body.url,
      bytesDownloaded: body.bytes_downloaded ?? 0,
      bytesTotal: body.bytes_total ?? 0,
      error: body.error,
      info: body.info,
      slotId: body.slot_id ?? null,
      startTime: body.start_time,
    }),
  );
/** Our own fetch: its status decides what the workflow does, so only the documented ones pass. */
export const firmwareFetchSchema = fetchJob(z.enum(FETCH_STATUSES));
export type FirmwareFetch = z.output<typeof firmwareFetchSchema>;
/** Everyone's fetches: another's record with a status or field we do not know never breaks our run. */
export const firmwareFetchListSchema = lenientList(fetchJob(z.string()));
export type ListedFirmwareFetch = z.output<typeof firmwareFetchListSchema>[number];
export const firmwareFetchStartSchema = map(z.looseObject({ key: z.string() }), (r) => r.key);

export const firmwareTestSchema = map(
  z.looseObject({ key: stringish, body: z.looseObject({ test_summary: z.nullish(z.string()) }) }),
  ({ key, body }) => ({ slotId: key, testSummary: body.test_summary ?? '' }),
);
export type FirmwareTestResult = z.output<typeof firmwareTestSchema>;

/**
 * `/firmware/upgrade` on success: NOTES §2.4 shows the test's shape, but nothing documents it, and
 * the appliance is about to reboot. Whatever JSON it sends means "accepted"; the fields are read
 * when they are there.
 */
export const firmwareUpgradeSchema = map(z.unknown(), (answer) => {
  const a = (answer ?? {}) as { key?: unknown; body?: { test_summary?: unknown } | null };
  const key = typeof a.key === 'string' || typeof a.key === 'number' ? String(a.key) : null;
  const summary = a.body && typeof a.body === 'object' ? a.body.test_summary : undefined;
  return { slotId: key, testSummary: typeof summary === 'string' ? summary : null };
});

export const BUNDLE_STATUSES = ['queued', 'in-progress', 'finished', 'failed'] as const;
export type BundleStatus = (typeof BUNDLE_STATUSES)[number];

const bundleJob = <S extends z.ZodMiniType<string>>(status: S) =>
  map(
    z.looseObject({
      key: z.string(),
      body: z.looseObject({
        status,
        error: nullableString,
        info: nullableString,
        file_name: nullableString,
        start_time: nullableString,
      }),
    }),
    ({ key, body }) => ({
      key,
      status: body.status as z.output<S>,
      error: body.error,
      info: body.info,
      fileName: body.file_name,
      startTime: body.start_time,
    }),
  );
export const supportBundleSchema = bundleJob(z.enum(BUNDLE_STATUSES));
export type SupportBundle = z.output<typeof supportBundleSchema>;
export const supportBundleListSchema = lenientList(bundleJob(z.string()));

/** The vendor sample answers the POST with a list; public client code reads a top-level `key`. */
export const supportBundleCreateSchema = z.union([
  map(z.looseObject({ key: z.string() }), (r) => r.key),
  map(
    z.looseObject({ items: z.array(z.looseObject({ key: z.string() })).check(z.minLength(1)) }),
    (r) => r.items[0]!.key,
  ),
]);

export const integratedProductsSchema = map(
  z.looseObject({
    items: z.array(z.looseObject({ name: z.string(), link: z.nullish(z.string()), activated: z.boolean() })),
  }),
  (r) => r.items.map((p) => ({ name: p.name, link: p.link ?? null, activated: p.activated })),
);
export type IntegratedProduct = z.output<typeof integratedProductsSchema>[number];

/** 200 answers that carry nothing we need (DELETE, login). */
export const anyBodySchema = z.unknown();
