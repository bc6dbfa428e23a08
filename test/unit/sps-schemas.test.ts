import type { ZodMiniType } from 'zod/mini';
import {
  errorEnvelopeSchema,
  firmwareEndpointsSchema,
  firmwareFetchListSchema,
  firmwareFetchSchema,
  firmwareFetchStartSchema,
  firmwareSlotsSchema,
  firmwareTestSchema,
  firmwareUpgradeSchema,
  infoSchema,
  integratedProductsSchema,
  supportBundleCreateSchema,
  supportBundleListSchema,
} from '../../lambdas/shared/sps/schemas';
import { fixture, fixtureNames } from '../helpers/fixtures';

/** Every vendor sample and the schema that reads it. */
const SCHEMA_OF: Record<string, ZodMiniType> = {
  'info-anonymous.json': infoSchema,
  'info-authenticated.json': infoSchema,
  'firmware.json': firmwareEndpointsSchema,
  'firmware-slots.json': firmwareSlotsSchema,
  'firmware-fetch-start.json': firmwareFetchStartSchema,
  'firmware-fetch-list.json': firmwareFetchListSchema,
  'firmware-fetch-one.json': firmwareFetchSchema,
  'firmware-test-passed.json': firmwareTestSchema,
  'firmware-upgrade-accepted.json': firmwareUpgradeSchema,
  'support-bundle-create.json': supportBundleCreateSchema,
  'support-bundle-list.json': supportBundleListSchema,
  'integrated-products-starling.json': integratedProductsSchema,
  'integrated-products-spp.json': integratedProductsSchema,
  'integrated-products-starling-joined.json': integratedProductsSchema,
  'integrated-products-empty.json': integratedProductsSchema,
  'error-resource-not-found.json': errorEnvelopeSchema,
  'error-incomplete-request-body.json': errorEnvelopeSchema,
  'error-firmware-test-failed.json': errorEnvelopeSchema,
  'error-support-bundle-download-not-found.json': errorEnvelopeSchema,
};

describe('vendor samples', () => {
  it('has a schema for every fixture file', () => {
    expect(fixtureNames().sort()).toEqual(Object.keys(SCHEMA_OF).sort());
  });

  it.each(Object.entries(SCHEMA_OF))('%s parses', (name, schema) => {
    const result = schema.safeParse(fixture(name));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('reads the anonymous /api/info view as one without a firmware version', () => {
    expect(infoSchema.parse(fixture('info-anonymous.json'))).toMatchObject({
      hostname: 'scbwriter',
      firmwareVersion: undefined,
    });
  });

  it('reads versions given as numbers and slot ids given as numbers', () => {
    const slots = firmwareSlotsSchema.parse({
      items: [
        { key: 1, body: { version: 7.5, current: true, after_reboot: true } },
        { key: 2, body: {} },
      ],
    });
    expect(slots.current).toMatchObject({ id: '1', version: '7.5' });
    expect(slots.emptyCount).toBe(1);
    expect(infoSchema.parse({ body: { hostname: 'h', firmware_version: 8 } }).firmwareVersion).toBe('8');
  });

  it('allows unknown fields but rejects unknown statuses and missing required fields', () => {
    const job = (status: string) => ({ key: 'k', body: { status, url: 'u', brand_new_field: 1 } });
    expect(firmwareFetchSchema.parse(job('queued'))).toMatchObject({ status: 'queued', bytesTotal: 0, slotId: null });
    expect(firmwareFetchSchema.safeParse(job('paused')).success).toBe(false);
    expect(firmwareSlotsSchema.safeParse({ items: [{ body: {} }] }).success).toBe(false);
    expect(supportBundleCreateSchema.safeParse({ items: [] }).success).toBe(false);
  });
});
