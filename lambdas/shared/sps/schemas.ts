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
      config_hash: z.nullish(z.string()),
      roles: z.nullish(z.array(z.string())),
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
    /** The hash of the running configuration (authenticated callers only). */
    configHash: body.config_hash ?? undefined,
    /** Cluster roles; empty on a standalone appliance (authenticated callers only). */
    roles: body.roles ?? [],
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
    /** What the vendor says about upgrading to this firmware (SPS Upgrade Notes). */
    upgradeNotes: body.upgrade_notes ?? null,
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

/** The documented Starling warnings (README, "Preflight"); where in the answer they appear is not documented. */
export const STARLING_WARNINGS = [
  'Information about the integrated Starling products cannot be retrieved.',
  'The credentials used for accessing Starling are invalid.',
] as const;

/** `/api/integrated_products` with the Starling warnings found anywhere in the answer. */
export const integratedProductsReportSchema = map(z.unknown(), (raw) => {
  const text = JSON.stringify(raw ?? null);
  return {
    products: integratedProductsSchema.parse(raw),
    warnings: STARLING_WARNINGS.filter((w) => text.includes(w)),
  };
});

/** A config reference: its key as a string, or `{key, meta}`. */
const reference = map(z.union([z.string(), z.looseObject({ key: z.string() })]), (r) =>
  typeof r === 'string' ? r : r.key,
);

/**
 * `GET /api/health_status` (NOTES §2.6): every part optional, as older firmware and appliances
 * without RAID lack some. The document sits at the top level or in `body`.
 */
const healthDocument = z.looseObject({
  firmware: z.optional(z.looseObject({ integrity: z.optional(z.record(z.string(), stringish)) })),
  raid: z.optional(z.looseObject({ status: z.optional(z.looseObject({ status: z.optional(z.string()) })) })),
  sessions_total: z.optional(z.number()),
  system_details: z.optional(
    z.looseObject({ disk: z.optional(z.looseObject({ percent: z.optional(map(stringish, Number)) })) }),
  ),
});
export const healthStatusSchema = map(
  z.union([
    z.looseObject({ health_status: healthDocument }),
    z.looseObject({ body: z.looseObject({ health_status: healthDocument }) }),
  ]),
  (answer) => {
    type Doc = z.output<typeof healthDocument>;
    const health =
      (answer as { health_status?: Doc }).health_status ??
      (answer as { body: { health_status: Doc } }).body.health_status;
    const percent = health.system_details?.disk?.percent;
    return {
      diskUsedPercent: Number.isFinite(percent) ? percent : undefined,
      integrity: health.firmware?.integrity,
      // A raid section without a status is not "no RAID".
      raid: health.raid ? (health.raid.status?.status ?? 'not reported') : undefined,
      sessionsTotal: health.sessions_total,
    };
  },
);

export const systemBackupSchema = map(
  z.looseObject({ body: z.looseObject({ backup_policy: z.nullish(reference) }) }),
  ({ body }) => body.backup_policy || null,
);

export const backupEncryptionSchema = map(
  z.looseObject({ body: z.looseObject({ encryption: z.looseObject({ enabled: z.boolean() }) }) }),
  ({ body }) => body.encryption.enabled,
);

export const clusterInterfaceSchema = map(
  z.looseObject({ body: z.looseObject({ enabled: z.boolean() }) }),
  ({ body }) => body.enabled,
);

/** A list of configuration objects: their keys. */
export const keyListSchema = map(z.looseObject({ items: z.array(z.looseObject({ key: stringish })) }), ({ items }) =>
  items.map((i) => i.key),
);

export const pluginSchema = map(
  z.looseObject({
    key: stringish,
    body: z.looseObject({
      name: z.string(),
      version: z.nullish(stringish),
      scb_min_version: z.nullish(stringish),
      scb_max_version: z.nullish(stringish),
    }),
  }),
  ({ key, body }) => ({
    key,
    name: body.name,
    version: body.version ?? undefined,
    minVersion: body.scb_min_version ?? undefined,
    maxVersion: body.scb_max_version ?? undefined,
  }),
);

/** The plugins the AA plugin instances refer to. */
export const pluginInstancesSchema = map(
  z.looseObject({ items: z.array(z.looseObject({ plugin: z.optional(reference) })) }),
  ({ items }) => items.flatMap((i) => (i.plugin ? [i.plugin] : [])),
);

/** `/api/plugin/integrity`: check → verdict. */
export const pluginIntegritySchema = map(
  z.looseObject({ body: z.record(z.string(), z.looseObject({ verdict: z.string() })) }),
  ({ body }) => Object.fromEntries(Object.entries(body).map(([op, r]) => [op, r.verdict])),
);

/** `GET /api/cluster/nodes/<key>` (on the Central Management node): a member's address and roles. */
export const clusterNodeSchema = map(
  z.looseObject({ key: z.string(), body: z.looseObject({ address: z.string(), roles: z.array(z.string()) }) }),
  ({ key, body }) => ({ key, address: body.address, roles: body.roles }),
);

/**
 * `GET /api/cluster/status` (on the Central Management node): each member; `healthReported` is false
 * while a member is down (and always for the Central Management node's own entry: it answered).
 */
export const clusterStatusSchema = map(
  z.looseObject({
    items: z.array(
      z.looseObject({
        key: z.string(),
        fqdn: z.nullish(z.string()),
        health_status: z.nullish(z.unknown()),
        sync_status: z.nullish(z.string()),
      }),
    ),
  }),
  ({ items }) =>
    items.map((i) => ({
      key: i.key,
      fqdn: i.fqdn ?? null,
      healthReported: i.health_status !== null && i.health_status !== undefined,
      syncStatus: i.sync_status ?? null,
    })),
);
