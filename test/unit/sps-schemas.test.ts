import * as z from 'zod/mini';
import type { ZodMiniType } from 'zod/mini';
import {
  backupEncryptionSchema,
  clusterInterfaceSchema,
  clusterNodeSchema,
  clusterStatusSchema,
  errorEnvelopeSchema,
  healthStatusSchema,
  keyListSchema,
  pluginInstancesSchema,
  pluginIntegritySchema,
  pluginSchema,
  systemBackupSchema,
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
  'health-status.json': healthStatusSchema,
  'system-backup.json': systemBackupSchema,
  'exported-configuration-encryption.json': backupEncryptionSchema,
  'cluster-interface.json': clusterInterfaceSchema,
  'plugins-aa-list.json': keyListSchema,
  'plugin-aa-one.json': pluginSchema,
  'aa-plugin-instances-list.json': pluginInstancesSchema,
  // Not read by the client (the list names each instance's plugin); its reference has the same shape.
  'aa-plugin-instance-one.json': z.looseObject({ body: z.looseObject({ plugin: z.looseObject({ key: z.string() }) }) }),
  'plugin-integrity.json': pluginIntegritySchema,
  'cluster-nodes.json': keyListSchema,
  'cluster-node-one.json': clusterNodeSchema,
  'cluster-status.json': clusterStatusSchema,
};

describe('vendor samples', () => {
  it('has a schema for every fixture file', () => {
    expect(fixtureNames().sort()).toEqual(Object.keys(SCHEMA_OF).sort());
  });

  it.each(Object.entries(SCHEMA_OF))('%s parses', (name, schema) => {
    const result = schema.safeParse(fixture(name));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('reads what the preflight needs from the vendor samples', () => {
    expect(healthStatusSchema.parse(fixture('health-status.json'))).toMatchObject({
      integrity: { boot: 'OK', core: 'CORRUPTED' },
      diskUsedPercent: expect.any(Number),
      sessionsTotal: expect.any(Number),
    });
    expect(systemBackupSchema.parse(fixture('system-backup.json'))).toBe('<key-to-a-backup-policy>');
    expect(systemBackupSchema.parse({ body: { backup_policy: '' } })).toBeNull();
    expect(systemBackupSchema.parse({ body: {} })).toBeNull();
    expect(backupEncryptionSchema.parse(fixture('exported-configuration-encryption.json'))).toBe(true);
    expect(clusterInterfaceSchema.parse(fixture('cluster-interface.json'))).toBe(true);
    expect(keyListSchema.parse(fixture('plugins-aa-list.json'))).toEqual(['2080160955734bb2a1ddf9']);
    expect(pluginSchema.parse(fixture('plugin-aa-one.json'))).toEqual({
      key: '2080160955734bb2a1ddf9',
      name: 'AAPluginExample',
      version: '1.1',
      minVersion: '',
      maxVersion: '',
    });
    expect(pluginInstancesSchema.parse(fixture('aa-plugin-instances-list.json'))).toEqual(['8876228625d67aa91e2253']);
    expect(pluginIntegritySchema.parse(fixture('plugin-integrity.json'))).toEqual({
      zip_checksum: 'passed',
      zip_content: 'passed',
      unregistered: 'unavailable',
    });
    expect(infoSchema.parse(fixture('info-authenticated.json'))).toMatchObject({
      configHash: '2abde4c81d9b544bf53fae4f4b9657fc',
      roles: ['central-management', 'search-master'],
    });
  });

  it('reads a cluster: its members, their address and roles, which are up', () => {
    expect(keyListSchema.parse(fixture('cluster-nodes.json'))).toHaveLength(2);
    expect(clusterNodeSchema.parse(fixture('cluster-node-one.json'))).toEqual({
      key: 'b35c54da-b556-4f91-ade5-d26283d68277',
      address: '<IP-address-of-node-to-be-queried>',
      roles: ['central-management'],
    });
    expect(
      clusterStatusSchema.parse(fixture('cluster-status.json')).map((n) => [n.fqdn, n.healthReported, n.syncStatus]),
    ).toEqual([
      ['sps.example.com', false, 'n/a'],
      ['managed-host.cluster', true, 'pending'],
    ]);
  });

  it('reads a health document without RAID as no RAID, and one wrapped in body alike', () => {
    const doc = {
      firmware: { integrity: { core: 'OK' } },
      sessions_total: 2,
      system_details: { disk: { percent: 91.5 } },
    };
    const expected = { diskUsedPercent: 91.5, integrity: { core: 'OK' }, raid: undefined, sessionsTotal: 2 };
    expect(healthStatusSchema.parse({ health_status: doc })).toEqual(expected);
    expect(healthStatusSchema.parse({ body: { health_status: doc } })).toEqual(expected);
    expect(healthStatusSchema.parse({ health_status: { raid: {} } }).raid).toBe('not reported');
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
