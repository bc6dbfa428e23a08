import * as z from 'zod/mini';
import { RELEASE_EVENT } from './catalog';
import { resolveAppliance, SecretError, type ResolvedAppliance } from '../shared/credentials';
import { sameVersion } from '../shared/versions';
import { errorText, NamedError } from '../shared/errors';
import { fleetReportKey, registeredNames } from '../shared/fleet';
import { storeObject } from '../shared/reports';
import {
  applianceValueSchema,
  fleetUpgradeState,
  type ApplianceValue,
  type ClusterMember,
  type InventoryEntry,
} from '../shared/fleet-upgrade';
import { fleetUpgradeInputSchema } from '../shared/fleet-upgrade-input';
import { InputInvalidError, parseInput, unwrapEvent, type ApplianceReference } from '../shared/input';
import type { OperationContext } from '../shared/operation';
import { spsOperation } from '../shared/sps-operation';
import type { SpsClient } from '../shared/sps/client';

/*
 * The fleet upgrade's steps that read appliances (README, "Fleet upgrade"): the plan (validate,
 * resolve, inventory, order) and the upgrade notes shown to an approver. The steps between waves
 * and the report are in ./rollout.ts; the upgrades themselves are child firmware-upgrade executions.
 */

/** Appliances inventoried at once: a thousand take about as long as forty. */
const INVENTORY_CONCURRENCY = 16;

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(p: Promise<T>): Promise<Outcome<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** Version, roles and, on a Central Management node, the cluster's members: GETs only, after a fresh login. */
async function inventory(sps: SpsClient): Promise<Pick<InventoryEntry, 'version' | 'roles' | 'members'>> {
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
  return { version: info.firmwareVersion ?? null, roles: info.roles, members };
}

/** A credentials secret that is missing or malformed: the registry (the input's appliances) is wrong. */
const REGISTRY_PROBLEMS = new Set(['Secrets.NotFound', 'Secrets.Invalid']);

/**
 * The appliances the input names (default: every registered one), each resolved from its
 * credentials secret, narrowed to `cluster`. Every problem is listed at once (`Input.Invalid`).
 */
async function resolveFleet(
  ctx: OperationContext,
  given: { appliances?: ApplianceReference[]; cluster?: string },
): Promise<Array<ResolvedAppliance & { ref: ApplianceReference; cluster: string | null }>> {
  const prefix = ctx.deps.credentialsSecretPrefix;
  const refs =
    given.appliances ?? registeredNames(await ctx.deps.secrets.list(prefix), prefix).names.map((name) => ({ name }));
  const where = (i: number) => (given.appliances ? `appliances.${i}` : `registered appliance ${refs[i]!.name}`);
  const resolved = await mapPool(refs, INVENTORY_CONCURRENCY, (ref) =>
    settle(resolveAppliance(ctx.deps.secrets, ref, prefix)),
  );
  const problems: string[] = [];
  const fleet: Array<ResolvedAppliance & { ref: ApplianceReference; cluster: string | null }> = [];
  resolved.forEach((r, i) => {
    if (r.ok) {
      fleet.push({ ref: refs[i]!, ...r.value, cluster: r.value.credentials.cluster ?? null });
    } else if (r.error instanceof InputInvalidError) {
      problems.push(
        ...r.error.problems.map((p) => `${where(i)}: ${p.replace(/^appliance\.endpoint: /, 'endpoint: ')}`),
      );
    } else if (r.error instanceof SecretError && REGISTRY_PROBLEMS.has(r.error.name)) {
      const fix =
        r.error.name === 'Secrets.NotFound' ? ': not registered (create its credentials secret, or fix the name)' : '';
      problems.push(`${where(i)}: ${r.error.message}${fix}`);
    } else {
      throw r.error; // Secrets Manager failed or refused: not the input's fault (and retried if transient)
    }
  });
  const endpoints = new Map<string, string>();
  for (const { appliance } of fleet) {
    const other = endpoints.get(appliance.endpoint);
    if (other) problems.push(`appliances: ${other} and ${appliance.name} name the same endpoint ${appliance.endpoint}`);
    else endpoints.set(appliance.endpoint, appliance.name);
  }
  if (problems.length > 0) throw new InputInvalidError(problems);
  if (!given.cluster) return fleet;
  const inCluster = fleet.filter((a) => a.cluster === given.cluster);
  if (given.appliances) {
    const outside = fleet.filter((a) => a.cluster !== given.cluster).map((a) => a.appliance.name);
    if (outside.length > 0) {
      throw new InputInvalidError([
        `appliances: ${outside.join(', ')} not in cluster ${given.cluster} (their credentials secrets name another cluster or none)`,
      ]);
    }
  }
  if (inCluster.length === 0) {
    throw new InputInvalidError([`cluster: no appliance's credentials secret names cluster ${given.cluster}`]);
  }
  return inCluster;
}

/** A `SPS Firmware Release` event carries a fleet upgrade's input as its `detail`. */
function releaseInput(raw: unknown): unknown {
  const event = raw as { 'detail-type'?: unknown } | null;
  if (
    event &&
    typeof event === 'object' &&
    event['detail-type'] !== RELEASE_EVENT.detailType &&
    'detail-type' in event
  ) {
    throw new InputInvalidError([`detail-type: a fleet upgrade starts from "${RELEASE_EVENT.detailType}" events only`]);
  }
  return unwrapEvent(raw);
}

/**
 * First state of a fleet upgrade: the input checked whole, the appliances resolved and
 * inventoried (GETs only), the clusters matched and ordered, the waves planned. Nothing changes
 * anywhere before this returns; an incomplete cluster or an appliance that cannot be read stops here.
 */
export const planFleetUpgrade = spsOperation(
  'plan-fleet-upgrade',
  z.object({ input: z.unknown(), executionId: z.optional(z.string()) }),
  async ({ input }, ctx) => {
    const given = parseInput(fleetUpgradeInputSchema, releaseInput(input));
    const fleet = await resolveFleet(ctx, given);
    const found = await mapPool(fleet, INVENTORY_CONCURRENCY, async (a) => settle(ctx.sps(a).then(inventory)));
    const unreadable = found.flatMap((r, i) => (r.ok ? [] : [`${fleet[i]!.appliance.name} (${errorText(r.error)})`]));
    if (unreadable.length > 0) {
      throw new NamedError(
        'Fleet.InventoryFailed',
        `Cannot inventory ${unreadable.length} of ${fleet.length} appliance(s), nothing was changed; fix their credentials secrets or reachability, or leave them out of appliances: ${unreadable.join('; ')}`,
      );
    }
    const entries: InventoryEntry[] = fleet.map((a, i) => ({
      name: a.appliance.name,
      endpoint: a.appliance.endpoint,
      cluster: a.cluster,
      ...(found[i] as { ok: true; value: Pick<InventoryEntry, 'version' | 'roles' | 'members'> }).value,
    }));
    // A child names its appliance as the input did: by name, or by its own secret.
    const values = new Map<string, ApplianceValue>(
      fleet.map(({ ref, appliance }) => [
        appliance.name,
        ref.credentialsSecretId ? { name: ref.name, credentialsSecretId: ref.credentialsSecretId } : ref.name,
      ]),
    );
    const state = fleetUpgradeState(given, entries, values);
    ctx.log.info('fleet upgrade planned', {
      appliances: entries.length,
      targets: state.plan.stageRun.appliances.length,
      waves: state.plan.waves.length,
      clusters: state.plan.clusters,
    });
    return state;
  },
);

/**
 * Before a person is asked: the SPS Upgrade Notes of the firmware being rolled out, read from the
 * slot that holds it on one staged appliance (GETs only) and stored beside the report, so the
 * request points at them. Null when no slot holds that version yet (no staging).
 */
export const readUpgradeNotes = spsOperation(
  'read-upgrade-notes',
  z.object({
    executionId: z.optional(z.string()),
    executionName: z.string(),
    appliance: applianceValueSchema,
    expectedVersion: z.string(),
  }),
  async ({ executionName, appliance: value, expectedVersion }, ctx) => {
    const ref = typeof value === 'string' ? { name: value } : (value as { name: string; credentialsSecretId?: string });
    const resolved = await resolveAppliance(ctx.deps.secrets, ref, ctx.deps.credentialsSecretPrefix);
    const { appliance } = resolved;
    const sps = await ctx.sps(resolved);
    const { slots } = await sps.listFirmwareSlots();
    const slot = slots.find((s) => sameVersion(s.version, expectedVersion));
    if (!slot?.upgradeNotes) {
      ctx.log.info('no upgrade notes to show', { slot: slot?.id ?? null });
      return null;
    }
    const at = new Date(ctx.now());
    const key = `${fleetReportKey('fleet-upgrade', at, executionName)}-upgrade-notes.md`;
    const stored = await storeObject(
      ctx.deps.archive,
      key,
      `# SPS Upgrade Notes of ${expectedVersion}\n\nFrom slot ${slot.id} of ${appliance.name}.\n\n${slot.upgradeNotes}\n`,
      'text/markdown; charset=utf-8',
    );
    ctx.log.info('upgrade notes stored', stored);
    return { ...stored, slot: slot.id, from: appliance.name };
  },
);
