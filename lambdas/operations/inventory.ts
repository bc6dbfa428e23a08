import * as z from 'zod/mini';
import { applianceSchema } from '../shared/input';
import { operation } from '../shared/operation';
import type { ClusterMember, InventoryEntry } from '../shared/fleet-upgrade';

/**
 * A fleet upgrade's inventory of one appliance (GETs only): a fresh login, its version and roles,
 * and on a Central Management node the cluster's members (address, roles, sync status).
 */
export const inventoryAppliance = operation(
  'inventory-appliance',
  z.object({ appliance: applianceSchema, executionId: z.optional(z.string()), cluster: z.nullable(z.string()) }),
  async ({ appliance, cluster }, ctx): Promise<InventoryEntry> => {
    const sps = await ctx.sps(appliance);
    await sps.login();
    const info = await sps.getInfo();
    let members: ClusterMember[] | null = null;
    if (info.roles.includes('central-management')) {
      const keys = await sps.listClusterNodes();
      const status = new Map((await sps.getClusterStatus()).map((s) => [s.key, s]));
      members = [];
      for (const key of keys) {
        const node = await sps.getClusterNode(key);
        members.push({
          key,
          address: node.address,
          roles: node.roles,
          healthReported: status.get(key)?.healthReported ?? false,
          syncStatus: status.get(key)?.syncStatus ?? null,
        });
      }
    }
    ctx.log.info('inventoried', { version: info.firmwareVersion, roles: info.roles, members: members?.length });
    return {
      name: appliance.name,
      endpoint: appliance.endpoint,
      cluster,
      version: info.firmwareVersion ?? null,
      roles: info.roles,
      members,
    };
  },
);
