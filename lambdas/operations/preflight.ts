import * as z from 'zod/mini';
import { NamedError, SpsApiError } from '../shared/errors';
import { applianceSchema } from '../shared/input';
import { spsOperation } from '../shared/sps-operation';
import { evaluatePreflight, overallVerdict, type Plugin, type PreflightFacts, type Read } from '../shared/preflight';
import type { SpsClient } from '../shared/sps/client';

/*
 * The preflight (README, "Preflight"): the vendor's upgrade checklist, read over REST with GETs
 * only, one verdict per check. The operation reads; `lambdas/shared/preflight.ts` decides.
 */

/** The plugin types SPS documents (`/api/configuration/plugins/<type>`). */
const PLUGIN_TYPES = ['aa', 'credentialstore', 'signingca', 'configuration_sync'] as const;

/**
 * A read this appliance cannot answer: an endpoint its firmware lacks (404), one the user may not
 * read (403), or an answer of another shape. Anything else (unreachable, login, TLS) is thrown: the
 * preflight could not check at all.
 */
function unreadable(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.name === 'Sps.NotFound') return 'not offered by this firmware (404)';
  if (err.name === 'Sps.Forbidden') return "the user's group may not read it (403)";
  if (err.name === 'Sps.InvalidResponse') return `unexpected answer: ${err.message}`;
  if (err instanceof SpsApiError && err.name === 'Sps.ApiError') return `refused: ${err.message}`;
  return undefined;
}

async function read<T>(what: () => Promise<T>): Promise<Read<T>> {
  try {
    return { ok: true, value: await what() };
  } catch (err) {
    const reason = unreadable(err);
    if (reason === undefined) throw err;
    return { ok: false, reason };
  }
}

/** Every plugin of every type, with its bounds, its use and its integrity. */
async function readPlugins(sps: SpsClient): Promise<Read<Plugin[]>> {
  const inUse = await read(() => sps.listAaPluginInstancePlugins());
  const plugins: Plugin[] = [];
  for (const type of PLUGIN_TYPES) {
    const keys = await read(() => sps.listPlugins(type));
    // A type this firmware does not have holds no plugins; one the user may not list is unknown.
    if (!keys.ok && keys.reason.includes('404')) continue;
    if (!keys.ok) return { ok: false, reason: `${type} plugins: ${keys.reason}` };
    for (const key of keys.value) {
      const plugin = await read(() => sps.getPlugin(type, key));
      if (!plugin.ok) return { ok: false, reason: `${type} plugin ${key}: ${plugin.reason}` };
      plugins.push({
        type,
        ...plugin.value,
        inUse: type === 'aa' && inUse.ok ? inUse.value.includes(key) : undefined,
        integrity: await read(() => sps.getPluginIntegrity(type, key)),
      });
    }
  }
  return { ok: true, value: plugins };
}

export const preflightOptionsSchema = z.object({
  minFreeDiskPercent: z.number(),
  maxActiveSessions: z.nullable(z.number()),
  requireBackupPolicy: z.boolean(),
  allowClusterMember: z.boolean(),
  freeOldestSlot: z.boolean(),
});

/**
 * Reads the appliance (info, firmware endpoints, health, backup, plugins, integrated products,
 * cluster interface, slots) and checks it. Returns the report, what a postcheck compares after
 * the upgrade, and the configuration hash the upgrade re-reads before its POST.
 */
export const runPreflight = spsOperation(
  'run-preflight',
  z.object({
    appliance: applianceSchema,
    executionId: z.optional(z.string()),
    targetVersion: z.nullable(z.string()),
    options: preflightOptionsSchema,
    /**
     * The upgrade's `options.preflight`: with `enforce` a failed check ends the run
     * (`Sps.PreflightFailed`) before anything changes; the preflight workflow only reports.
     */
    mode: z._default(z.enum(['enforce', 'warn', 'report']), 'report'),
  }),
  async ({ appliance, targetVersion, options, mode }, ctx) => {
    const sps = await ctx.sps(appliance);
    const info = await sps.getInfo();
    // One read at a time: a dozen GETs take seconds, and an appliance's session may serve only so
    // many requests before it asks for a fresh login (which each call does once).
    const firmwareEndpoints = await read(() => sps.listFirmwareEndpoints());
    const health = await read(() => sps.getHealthStatus());
    const backupPolicy = await read(() => sps.getSystemBackupPolicy());
    const backupEncryption = await read(() => sps.getBackupEncryption());
    const integrated = await read(() => sps.getIntegratedProductsReport());
    const clusterInterface = await read(() => sps.getClusterInterface());
    const slots = await read(() => sps.listFirmwareSlots());
    const plugins = await readPlugins(sps);
    const facts: PreflightFacts = {
      firmwareEndpoints,
      health,
      backupPolicy,
      backupEncryption,
      plugins,
      integratedProducts: integrated.ok
        ? {
            ok: true,
            value: {
              activated: integrated.value.products.filter((p) => p.activated).map((p) => p.name),
              warnings: integrated.value.warnings,
            },
          }
        : integrated,
      roles: info.roles,
      clusterInterface,
      slots: slots.ok ? { ok: true, value: slots.value.slots } : slots,
    };
    const checks = evaluatePreflight(facts, targetVersion, options);
    const verdict = overallVerdict(checks);
    const failed = checks.filter((c) => c.verdict === 'fail');
    ctx.log.info('preflight checked', { verdict, failed: failed.map((c) => c.id) });
    ctx.deps.metrics?.add('Preflights', 'Count', 1, { Verdict: verdict });
    // No empty slot is the fetch step's to refuse: Sps.NoEmptySlot names the slot a real run frees.
    const blocking = failed.filter((c) => c.id !== 'empty-slot');
    if (mode === 'enforce' && blocking.length > 0) {
      throw new NamedError(
        'Sps.PreflightFailed',
        `${appliance.name} fails the upgrade checklist${targetVersion ? ` for ${targetVersion}` : ''} (nothing was changed): ${blocking
          .map((c) => `${c.id}: ${c.summary}`)
          .join('; ')}`,
      );
    }
    return {
      report: {
        appliance: appliance.name,
        version: info.firmwareVersion ?? null,
        targetVersion,
        roles: info.roles,
        verdict,
        checks,
      },
      // What the postcheck compares after the upgrade (null: could not be read now).
      snapshot: {
        roles: info.roles,
        activatedProducts: facts.integratedProducts.ok ? facts.integratedProducts.value.activated : null,
        pluginIntegrity: plugins.ok
          ? Object.fromEntries(
              plugins.value.map((p) => [
                `${p.type}/${p.name}`,
                p.integrity.ok && Object.values(p.integrity.value).every((v) => v === 'passed' || v === 'unavailable'),
              ]),
            )
          : null,
      },
      configHash: info.configHash ?? null,
    };
  },
);

const snapshotSchema = z.object({
  roles: z.array(z.string()),
  activatedProducts: z.nullable(z.array(z.string())),
  pluginIntegrity: z.nullable(z.record(z.string(), z.boolean())),
});

/**
 * After the upgrade is proven: what the preflight saw still holds. Integrated products that were
 * activated still are, plugins that were intact still are, the cluster roles are unchanged;
 * otherwise `Sps.PostcheckFailed` (the appliance runs the new version; the cause says what changed).
 */
export const runPostcheck = spsOperation(
  'run-postcheck',
  z.object({ appliance: applianceSchema, executionId: z.optional(z.string()), snapshot: snapshotSchema }),
  async ({ appliance, snapshot }, ctx) => {
    const sps = await ctx.sps(appliance);
    const info = await sps.getInfo();
    const changes: string[] = [];
    const sorted = (list: string[]) => [...list].sort().join(', ') || 'none';
    if (sorted(info.roles) !== sorted(snapshot.roles)) {
      changes.push(`cluster roles were ${sorted(snapshot.roles)}, now ${sorted(info.roles)}`);
    }
    if (snapshot.activatedProducts?.length) {
      const now = await read(() => sps.getIntegratedProductsReport());
      if (!now.ok) changes.push(`integrated products cannot be read now (${now.reason})`);
      else {
        const active = new Set(now.value.products.filter((p) => p.activated).map((p) => p.name));
        const lost = snapshot.activatedProducts.filter((name) => !active.has(name));
        if (lost.length > 0) changes.push(`no longer activated: ${lost.join(', ')}`);
      }
    }
    if (snapshot.pluginIntegrity && Object.values(snapshot.pluginIntegrity).some(Boolean)) {
      const now = await readPlugins(sps);
      if (!now.ok) changes.push(`plugins cannot be read now (${now.reason})`);
      else {
        const intact = new Map(
          now.value.map((p) => [
            `${p.type}/${p.name}`,
            p.integrity.ok && Object.values(p.integrity.value).every((v) => v === 'passed' || v === 'unavailable'),
          ]),
        );
        const broken = Object.entries(snapshot.pluginIntegrity)
          .filter(([name, wasIntact]) => wasIntact && intact.get(name) !== true)
          .map(([name]) => (intact.has(name) ? `${name} fails its integrity check` : `${name} is gone`));
        changes.push(...broken);
      }
    }
    if (changes.length > 0) {
      throw new NamedError(
        'Sps.PostcheckFailed',
        `${appliance.name} runs ${info.firmwareVersion ?? 'the new firmware'}, but the upgrade changed what the preflight saw: ${changes.join('; ')}`,
      );
    }
    ctx.log.info('postcheck passed');
    return { passed: true };
  },
);
