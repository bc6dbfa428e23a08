import { z } from 'zod';

/*
 * Response schemas written from the vendor samples (test/fixtures/sps). Unknown fields are
 * allowed everywhere (appliances add fields between releases); the fields the workflows rely
 * on are checked, then normalized to camelCase domain objects.
 */

/** Slot ids and slot versions arrive as strings in the samples, as numbers in the field tables. */
const stringish = z.union([z.string(), z.number()]).transform(String);
const nullableString = z
  .string()
  .nullable()
  .optional()
  .transform((v) => v ?? null);
const meta = z.looseObject({ href: z.string().optional(), remaining_seconds: z.number().optional() });

export const errorEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    type: z.string(),
    message: z.string().optional(),
    details: z.unknown().optional(),
  }),
});

export const infoSchema = z
  .looseObject({
    body: z.looseObject({
      hostname: z.string(),
      domainname: z.string().nullable().optional(),
      nickname: z.string().nullable().optional(),
      firmware_version: stringish.optional(),
      version: stringish.optional(),
      build_date: z.string().optional(),
    }),
    meta: meta.optional(),
  })
  .transform(({ body }) => ({
    hostname: body.hostname,
    domainName: body.domainname ?? null,
    nickname: body.nickname ?? null,
    /** Present only for authenticated callers. */
    firmwareVersion: body.firmware_version,
    releaseName: body.version,
    buildDate: body.build_date,
  }));
export type ApplianceInfo = z.output<typeof infoSchema>;

export const firmwareEndpointsSchema = z
  .looseObject({ items: z.array(z.looseObject({ key: z.string() })) })
  .transform(({ items }) => items.map((i) => i.key));

const slotBodySchema = z.looseObject({
  version: stringish.optional(),
  current: z.boolean().optional(),
  after_reboot: z.boolean().optional(),
  upgrade_notes: z.string().nullable().optional(),
  upgrade_news: z.string().nullable().optional(),
});

const slotSchema = z.looseObject({ key: stringish, body: slotBodySchema }).transform(({ key, body }) => ({
  id: key,
  /** An empty slot has `body: {}`. */
  empty: body.version === undefined,
  version: body.version ?? null,
  current: body.current ?? false,
  afterReboot: body.after_reboot ?? false,
}));
export type FirmwareSlot = z.output<typeof slotSchema>;
export const firmwareSlotSchema = slotSchema;

export const firmwareSlotsSchema = z
  .looseObject({
    items: z.array(slotSchema),
    meta: meta.and(z.looseObject({ number_of_empty_slots: z.number().optional() })).optional(),
  })
  .transform(({ items, meta }) => ({
    slots: items,
    current: items.find((s) => s.current) ?? null,
    afterReboot: items.find((s) => s.afterReboot) ?? null,
    emptyCount: meta?.number_of_empty_slots ?? items.filter((s) => s.empty).length,
  }));
export type FirmwareSlots = z.output<typeof firmwareSlotsSchema>;

export const FETCH_STATUSES = ['queued', 'in-progress', 'finished', 'failed', 'canceled'] as const;
export type FetchStatus = (typeof FETCH_STATUSES)[number];

const fetchJobSchema = z
  .looseObject({
    key: z.string(),
    body: z.looseObject({
      status: z.enum(FETCH_STATUSES),
      url: z.string(),
      bytes_downloaded: z.number().nullable().optional(),
      bytes_total: z.number().nullable().optional(),
      error: nullableString,
      info: nullableString,
      slot_id: stringish.nullable().optional(),
      start_time: nullableString,
    }),
  })
  .transform(({ key, body }) => ({
    key,
    status: body.status,
    url: body.url,
    bytesDownloaded: body.bytes_downloaded ?? 0,
    bytesTotal: body.bytes_total ?? 0,
    error: body.error,
    info: body.info,
    slotId: body.slot_id ?? null,
    startTime: body.start_time,
  }));
export type FirmwareFetch = z.output<typeof fetchJobSchema>;
export const firmwareFetchSchema = fetchJobSchema;
export const firmwareFetchListSchema = z.looseObject({ items: z.array(fetchJobSchema) }).transform((r) => r.items);
export const firmwareFetchStartSchema = z.looseObject({ key: z.string() }).transform((r) => r.key);

/** `/firmware/test` and `/firmware/upgrade` answer alike on success. */
export const firmwareTestSchema = z
  .looseObject({ key: stringish, body: z.looseObject({ test_summary: z.string().nullable().optional() }) })
  .transform(({ key, body }) => ({ slotId: key, testSummary: body.test_summary ?? '' }));
export type FirmwareTestResult = z.output<typeof firmwareTestSchema>;

export const BUNDLE_STATUSES = ['queued', 'in-progress', 'finished', 'failed'] as const;
export type BundleStatus = (typeof BUNDLE_STATUSES)[number];

const bundleJobSchema = z
  .looseObject({
    key: z.string(),
    body: z.looseObject({
      status: z.enum(BUNDLE_STATUSES),
      error: nullableString,
      info: nullableString,
      file_name: nullableString,
      start_time: nullableString,
    }),
  })
  .transform(({ key, body }) => ({
    key,
    status: body.status,
    error: body.error,
    info: body.info,
    fileName: body.file_name,
    startTime: body.start_time,
  }));
export type SupportBundle = z.output<typeof bundleJobSchema>;
export const supportBundleSchema = bundleJobSchema;
export const supportBundleListSchema = z.looseObject({ items: z.array(bundleJobSchema) }).transform((r) => r.items);

/** The vendor sample answers the POST with a list; public client code reads a top-level `key`. */
export const supportBundleCreateSchema = z
  .union([
    z.looseObject({ key: z.string() }),
    z.looseObject({ items: z.array(z.looseObject({ key: z.string() })).min(1) }),
  ])
  .transform((r) => ('items' in r && Array.isArray(r.items) ? (r.items[0] as { key: string }).key : String(r.key)));

export const integratedProductsSchema = z
  .looseObject({
    items: z.array(z.looseObject({ name: z.string(), link: z.string().nullable().optional(), activated: z.boolean() })),
  })
  .transform((r) => r.items.map((p) => ({ name: p.name, link: p.link ?? null, activated: p.activated })));
export type IntegratedProduct = z.output<typeof integratedProductsSchema>[number];

/** 200 answers that carry nothing we need (DELETE, login). */
export const anyBodySchema = z.unknown();
