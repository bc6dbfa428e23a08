import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { SecretError } from '../../lambdas/shared/credentials';
import { runWorkflow, type ApprovalAnswer, type HistoryEvent, type WorkflowName } from '../../local/engine/engine';
import { clusterAppliances, type ApplianceOptions } from '../../local/simulator';
import type { ScenarioName } from '../../local/simulator/scenarios';
import { simulatedCredentials } from '../../local/simulator/credentials';
import {
  bundleInput,
  failSecondPart,
  firmwareInput,
  leakedSecrets,
  refuseSecrets,
  startHarness,
  type Harness,
} from './workflow';

/*
 * The fault matrix: the appliance workflows, the fleet runs and the fleet upgrade against every
 * simulator scenario and injected fault. Each case states the end it must reach; `runCase` also
 * reports what was asked of the appliances, what is left on them and in S3, so that the README's
 * "Reliability" table is generated from real runs (`npm run fault-matrix`;
 * test/fault-matrix.test.ts fails when the README drifts).
 */

const MiB = 1024 * 1024;

export interface FaultCase {
  workflow: WorkflowName;
  fault: string;
  /**
   * A fleet run's or fleet upgrade's appliances (default: two standalone and a 3-node cluster) and
   * its input (a fleet upgrade's besides `firmware`).
   */
  fleet?: { appliances?: ApplianceOptions[]; input?: object; approve?: ApprovalAnswer };
  appliance?: Partial<ApplianceOptions>;
  /** Changes the input's `firmware` (firmware-upgrade). */
  firmware?: object;
  /** The input's `archive` (support-bundle). */
  archive?: object;
  options?: object;
  /** Changes the world before the run (secrets, S3, faults, client timeouts). */
  setup?(h: Harness): void | Promise<void>;
  /** Acts on the appliance at every Wait of the run. */
  onWait?(h: Harness): void;
  expect: string;
}

const secretsDown = (h: Harness) => {
  h.secrets.get = async () => {
    throw new SecretError('Secrets.AccessDenied', 'Cannot read secret "sps/sps-sim-1": AccessDeniedException');
  };
};
/** Secrets Manager cannot be reached (a VPC without a route to it): `failures` reads fail, then it answers. */
const secretsUnreachable = (failures: number) => (h: Harness) => {
  let left = failures;
  refuseSecrets(h.secrets, (_id, write) => !write && left-- > 0);
};
const wrongPassword = async (h: Harness) => {
  const a = h.sim.appliance('sps-sim-1');
  await h.secrets.put(
    'sps/sps-sim-1',
    JSON.stringify({ ...simulatedCredentials(h.sim, a), password: 'not-the-password' }),
  );
};
const noCa = async (h: Harness) => {
  const a = h.sim.appliance('sps-sim-1');
  const { caCertificate: _ca, ...noCa } = simulatedCredentials(h.sim, a) as { caCertificate?: string };
  await h.secrets.put('sps/sps-sim-1', JSON.stringify(noCa));
};
/** The input names a real appliance's endpoint, but not the one sps-sim-1's secret names. */
const otherEndpoint = async (h: Harness) => {
  const a = h.sim.appliance('sps-sim-1');
  await h.secrets.put(
    'sps/sps-sim-1',
    JSON.stringify({ ...simulatedCredentials(h.sim, a), endpoint: 'https://127.0.0.1:1' }),
  );
};
const hangOnce = (path: RegExp) => (h: Harness) => {
  h.deps.client = { ...h.deps.client, timeouts: { headersMs: 300 } };
  h.sim.appliance('sps-sim-1').injectFault({ method: 'GET', path, kind: 'hang', times: 1 });
};

/** The fault matrix's fleet: two standalone appliances and a 3-node cluster `east`, some with a scenario of their own. */
function fleetOf(scenarios: Record<string, ScenarioName> = {}): ApplianceOptions[] {
  return [{ name: 'sps-sim-1' }, { name: 'sps-sim-2' }, ...clusterAppliances('east', 3)].map((a) =>
    scenarios[a.name] ? { ...a, scenario: scenarios[a.name] } : a,
  );
}

/** A fleet run of the preflight, as the weekly schedule starts it. */
const PREFLIGHT_RUN = { workflow: 'preflight', input: { targetVersion: '8.0.1' } };
/** The fault matrix's fleet without its cluster (each cluster member's preflight fails on its own). */
const STANDALONE: ApplianceOptions[] = [{ name: 'sps-sim-1' }, { name: 'sps-sim-2' }];

export const CASES: FaultCase[] = [
  { workflow: 'firmware-upgrade', fault: 'none (happy path)', expect: 'SUCCEEDED upgraded' },
  {
    workflow: 'firmware-upgrade',
    fault: 'already on the expected version',
    appliance: { scenario: 'already-current' },
    expect: 'SUCCEEDED already-current',
  },
  { workflow: 'firmware-upgrade', fault: 'dry run', options: { dryRun: true }, expect: 'SUCCEEDED dry-run-passed' },
  {
    workflow: 'firmware-upgrade',
    fault: '401 mid-poll (session expires)',
    appliance: { scenario: 'session-expires' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: '5xx bursts',
    appliance: { scenario: 'flaky-5xx' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'connection resets',
    appliance: { scenario: 'connection-resets' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'a status poll times out',
    setup: hangOnce(/^\/api\/firmware\/fetch\/./),
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'slow reboot (60 min, within 90)',
    appliance: { scenario: 'slow-reboot' },
    options: { timeouts: { rebootMinutes: 90 } },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'slow reboot beyond rebootMinutes',
    appliance: { scenario: 'slow-reboot' },
    expect: 'FAILED Sps.Timeout',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'reboot that never returns',
    appliance: { rebootSeconds: Number.POSITIVE_INFINITY },
    expect: 'FAILED Sps.Timeout',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'fetch failed',
    appliance: { scenario: 'fetch-fails' },
    expect: 'FAILED Sps.FetchFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'fetch canceled by an admin',
    onWait: (h) => h.sim.appliance('sps-sim-1').cancelFetches(),
    expect: 'FAILED Sps.FetchFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'download slower than fetchMinutes',
    appliance: { fetchBytesPerSecond: 100_000 },
    options: { timeouts: { fetchMinutes: 30 } },
    expect: 'FAILED Sps.Timeout',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'precheck failed',
    appliance: { scenario: 'precheck-fails' },
    expect: 'FAILED Sps.PrecheckFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'no empty slot',
    appliance: { scenario: 'no-empty-slot' },
    expect: 'FAILED Sps.NoEmptySlot',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'no empty slot, freeOldestSlot',
    appliance: { scenario: 'no-empty-slot' },
    options: { freeOldestSlot: true },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'Secrets Manager failure',
    setup: secretsDown,
    expect: 'FAILED Secrets.AccessDenied',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'Secrets Manager unreachable for two reads (retried)',
    setup: secretsUnreachable(2),
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'Secrets Manager unreachable (no route from the VPC)',
    setup: secretsUnreachable(Infinity),
    expect: 'FAILED Secrets.Unavailable',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'Secrets Manager unreachable for two writes during the reboot watch (retried)',
    setup: (h) => {
      let left = 2;
      const posted = () => h.sim.journal.entries().some((e) => e.path === '/api/firmware/upgrade');
      refuseSecrets(h.secrets, (_id, write) => write && posted() && left-- > 0);
    },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'wrong password',
    setup: wrongPassword,
    expect: 'FAILED Sps.AuthenticationFailed',
  },
  { workflow: 'firmware-upgrade', fault: 'untrusted certificate', setup: noCa, expect: 'FAILED Sps.TlsError' },
  {
    workflow: 'firmware-upgrade',
    fault: "input names another endpoint than the credentials secret's",
    setup: otherEndpoint,
    expect: 'FAILED Input.Invalid',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'reboot between two polls (/api/info answers anonymously)',
    appliance: { rebootSeconds: 5 },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'upgrade answered with a 502 page while carried out',
    appliance: { scenario: 'upgrade-502' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'upgrade answer lost after it was carried out',
    setup: (h) =>
      h.sim.appliance('sps-sim-1').injectFault({ method: 'POST', path: '/api/firmware/upgrade', kind: 'lost-answer' }),
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'upgrade request lost before the appliance saw it',
    setup: (h) =>
      h.sim.appliance('sps-sim-1').injectFault({ method: 'POST', path: '/api/firmware/upgrade', kind: 'reset' }),
    expect: 'FAILED Sps.Timeout',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'appliance reverts to the previous version',
    appliance: { scenario: 'upgrade-reverts' },
    expect: 'FAILED Sps.UpgradeReverted',
  },
  {
    workflow: 'firmware-upgrade',
    fault: "someone else's fetch of the URL running",
    appliance: { scenario: 'foreign-fetch' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: "someone else's fetch installs another version",
    appliance: { scenario: 'foreign-fetch', foreignFetchVersion: '7.9.9' },
    expect: 'FAILED Sps.VersionMismatch',
  },
  {
    workflow: 'firmware-upgrade',
    fault: "someone else's fetch outlasts fetchMinutes",
    appliance: { scenario: 'foreign-fetch', fetchBytesPerSecond: 100_000 },
    options: { timeouts: { fetchMinutes: 30 } },
    expect: 'FAILED Sps.Timeout',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'dry run, no empty slot, freeOldestSlot',
    appliance: { scenario: 'no-empty-slot' },
    options: { dryRun: true, freeOldestSlot: true },
    expect: 'FAILED Sps.NoEmptySlot',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'replayed run without expectedVersion',
    appliance: { firmwareVersion: '8.0.1' },
    firmware: { expectedVersion: undefined },
    expect: 'SUCCEEDED already-current',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'preflight fails (degraded RAID)',
    appliance: { scenario: 'raid-degraded' },
    expect: 'FAILED Sps.PreflightFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'preflight fails, options.preflight warn',
    appliance: { scenario: 'no-backup-policy' },
    options: { preflight: 'warn' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'configuration changed after the precheck',
    appliance: { scenario: 'config-changes' },
    expect: 'FAILED Sps.PreflightFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'a plugin in use does not support the target',
    appliance: { scenario: 'plugin-out-of-range-in-use' },
    expect: 'FAILED Sps.PreflightFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'the upgrade deactivates an integrated product (postcheck)',
    appliance: { integratedProducts: [{ name: 'Starling', link: null, activated: true }] },
    onWait: (h) => {
      if (h.sim.journal.entries().some((e) => e.path === '/api/firmware/upgrade'))
        h.sim.appliance('sps-sim-1').setIntegratedProducts([]);
    },
    expect: 'FAILED Sps.PostcheckFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'sessions in progress (reported; the reboot ends them)',
    appliance: { scenario: 'sessions-active' },
    expect: 'SUCCEEDED upgraded',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'a cluster member upgraded on its own',
    appliance: { scenario: 'cluster-member' },
    expect: 'FAILED Sps.PreflightFailed',
  },
  {
    workflow: 'firmware-upgrade',
    fault: 'corrupted firmware part',
    appliance: { scenario: 'firmware-corrupted' },
    expect: 'FAILED Sps.PreflightFailed',
  },
  { workflow: 'preflight', fault: 'none (healthy appliance)', expect: 'SUCCEEDED verdict pass' },
  { workflow: 'preflight', fault: 'low disk', appliance: { scenario: 'low-disk' }, expect: 'SUCCEEDED verdict fail' },
  {
    workflow: 'preflight',
    fault: 'firmware without /api/health_status (404)',
    appliance: { scenario: 'no-health-status' },
    expect: 'SUCCEEDED verdict warn',
  },
  {
    workflow: 'preflight',
    fault: 'user without the configuration privilege (403)',
    appliance: { scenario: 'no-config-privilege' },
    expect: 'SUCCEEDED verdict warn',
  },
  {
    workflow: 'preflight',
    fault: '401 mid-run (session expires)',
    appliance: { scenario: 'session-expires' },
    expect: 'SUCCEEDED verdict pass',
  },
  {
    workflow: 'preflight',
    fault: 'connection resets',
    appliance: { scenario: 'connection-resets' },
    expect: 'SUCCEEDED verdict pass',
  },
  { workflow: 'preflight', fault: 'wrong password', setup: wrongPassword, expect: 'FAILED Sps.AuthenticationFailed' },
  { workflow: 'preflight', fault: 'untrusted certificate', setup: noCa, expect: 'FAILED Sps.TlsError' },
  {
    workflow: 'preflight',
    fault: 'corrupted firmware part',
    appliance: { scenario: 'firmware-corrupted' },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'degraded RAID',
    appliance: { scenario: 'raid-degraded' },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'sessions in progress',
    appliance: { scenario: 'sessions-active' },
    expect: 'SUCCEEDED verdict pass',
  },
  {
    workflow: 'preflight',
    fault: 'sessions in progress, above maxActiveSessions',
    appliance: { scenario: 'sessions-active' },
    options: { maxActiveSessions: 0 },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'no system backup policy',
    appliance: { scenario: 'no-backup-policy' },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'a plugin in use does not support the target',
    appliance: { scenario: 'plugin-out-of-range-in-use' },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'an unused plugin does not support the target',
    appliance: { scenario: 'plugin-out-of-range-unused' },
    expect: 'SUCCEEDED verdict warn',
  },
  {
    workflow: 'preflight',
    fault: 'a plugin fails its integrity check',
    appliance: { scenario: 'plugin-integrity-failed' },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'Starling unavailable (integrated product warning)',
    appliance: { scenario: 'starling-warning' },
    expect: 'SUCCEEDED verdict warn',
  },
  {
    workflow: 'preflight',
    fault: 'a cluster member checked on its own',
    appliance: { scenario: 'cluster-member' },
    expect: 'SUCCEEDED verdict fail',
  },
  {
    workflow: 'preflight',
    fault: 'Secrets Manager failure',
    setup: secretsDown,
    expect: 'FAILED Secrets.AccessDenied',
  },
  {
    workflow: 'preflight',
    fault: "input names another endpoint than the credentials secret's",
    setup: otherEndpoint,
    expect: 'FAILED Input.Invalid',
  },
  { workflow: 'support-bundle', fault: 'none (happy path)', expect: 'SUCCEEDED archived' },
  {
    workflow: 'support-bundle',
    fault: '401 mid-poll (session expires)',
    appliance: { scenario: 'session-expires' },
    expect: 'SUCCEEDED archived',
  },
  {
    workflow: 'support-bundle',
    fault: '5xx bursts',
    appliance: { scenario: 'flaky-5xx' },
    expect: 'SUCCEEDED archived',
  },
  {
    workflow: 'support-bundle',
    fault: 'connection resets',
    appliance: { scenario: 'connection-resets' },
    expect: 'SUCCEEDED archived',
  },
  {
    workflow: 'support-bundle',
    fault: 'bundle failed',
    appliance: { scenario: 'bundle-fails' },
    expect: 'FAILED Sps.BundleFailed',
  },
  {
    workflow: 'support-bundle',
    fault: 'bundle slower than generateMinutes',
    appliance: { bundleGenerateSeconds: 3600 },
    options: { timeouts: { generateMinutes: 5 } },
    expect: 'FAILED Sps.Timeout',
  },
  {
    workflow: 'support-bundle',
    fault: 'busy bundle queue',
    appliance: { scenario: 'busy-bundle-queue' },
    expect: 'SUCCEEDED archived',
  },
  {
    workflow: 'support-bundle',
    fault: 'truncated download',
    appliance: { scenario: 'truncated-download', bundleBytes: 20 * MiB },
    expect: 'SUCCEEDED archived',
  },
  {
    workflow: 'support-bundle',
    fault: 'S3 failure mid-upload',
    appliance: { bundleBytes: 20 * MiB },
    setup: failSecondPart,
    expect: 'FAILED S3.ArchiveFailed',
  },
  {
    workflow: 'support-bundle',
    fault: 'Secrets Manager failure',
    setup: secretsDown,
    expect: 'FAILED Secrets.AccessDenied',
  },
  {
    workflow: 'support-bundle',
    fault: 'wrong password',
    setup: wrongPassword,
    expect: 'FAILED Sps.AuthenticationFailed',
  },
  { workflow: 'support-bundle', fault: 'untrusted certificate', setup: noCa, expect: 'FAILED Sps.TlsError' },
  {
    workflow: 'support-bundle',
    fault: "input names another endpoint than the credentials secret's",
    setup: otherEndpoint,
    expect: 'FAILED Input.Invalid',
  },
  {
    workflow: 'support-bundle',
    fault: 'S3 refuses the upload (access denied)',
    appliance: { bundleBytes: 20 * MiB },
    setup: (h) =>
      failSecondPart(h, { name: 'AccessDenied', message: 'Access Denied', $metadata: { httpStatusCode: 403 } }),
    expect: 'FAILED S3.ArchiveRejected',
  },
  {
    workflow: 'support-bundle',
    fault: 'no such bucket',
    archive: { bucket: 'no-such-bucket' },
    expect: 'FAILED S3.ArchiveRejected',
  },
  {
    workflow: 'fleet-run',
    fault: 'support-bundle: none (happy path)',
    fleet: { input: { workflow: 'support-bundle' } },
    expect: 'SUCCEEDED 5 succeeded',
  },
  {
    workflow: 'fleet-run',
    fault: 'support-bundle: the bundle fails on one appliance',
    fleet: { appliances: fleetOf({ 'sps-sim-2': 'bundle-fails' }), input: { workflow: 'support-bundle' } },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  {
    workflow: 'fleet-run',
    fault: 'support-bundle: an appliance that is not registered',
    fleet: { input: { workflow: 'support-bundle', appliances: ['sps-sim-1', 'sps-sim-9', 'sps-sim-2'] } },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  {
    workflow: 'fleet-run',
    fault: 'preflight: none (two healthy standalone appliances)',
    fleet: { appliances: STANDALONE, input: PREFLIGHT_RUN },
    expect: 'SUCCEEDED 2 succeeded',
  },
  {
    workflow: 'fleet-run',
    fault: 'preflight: healthy fleet with a cluster (each member checked alone fails cluster-membership)',
    fleet: { input: PREFLIGHT_RUN },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  {
    workflow: 'fleet-run',
    fault: 'preflight: healthy fleet with a cluster, options.allowClusterMember',
    fleet: { input: { ...PREFLIGHT_RUN, input: { targetVersion: '8.0.1', options: { allowClusterMember: true } } } },
    expect: 'SUCCEEDED 5 succeeded',
  },
  {
    workflow: 'fleet-run',
    fault: 'preflight: one appliance fails a check (degraded RAID)',
    fleet: {
      appliances: [{ name: 'sps-sim-1' }, { name: 'sps-sim-2', scenario: 'raid-degraded' }],
      input: PREFLIGHT_RUN,
    },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  {
    workflow: 'fleet-run',
    fault: 'preflight: one appliance refuses the login',
    setup: wrongPassword,
    fleet: { appliances: STANDALONE, input: PREFLIGHT_RUN },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  {
    workflow: 'fleet-run',
    fault: 'preflight: an appliance that is not registered',
    fleet: { appliances: STANDALONE, input: { ...PREFLIGHT_RUN, appliances: ['sps-sim-1', 'sps-sim-9', 'sps-sim-2'] } },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  { workflow: 'fleet-upgrade', fault: 'none (happy path)', expect: 'SUCCEEDED 5 upgraded' },
  {
    workflow: 'fleet-upgrade',
    fault: 'a cluster member left out of appliances',
    fleet: { input: { appliances: ['sps-sim-1', 'east-1', 'east-2'] } },
    expect: 'FAILED Fleet.IncompleteCluster',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'one appliance refuses the login (inventory)',
    setup: async (h) => {
      const a = h.sim.appliance('sps-sim-2');
      await h.secrets.put('sps/sps-sim-2', JSON.stringify({ ...simulatedCredentials(h.sim, a), password: 'wrong' }));
    },
    expect: 'FAILED Fleet.InventoryFailed',
  },
  {
    workflow: 'fleet-upgrade',
    fault: "Secrets Manager unreachable for one appliance's secret (planning)",
    setup: (h) => void refuseSecrets(h.secrets, (id, write) => !write && id === 'sps/sps-sim-2'),
    expect: 'FAILED Secrets.Unavailable',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'an appliance that is not registered',
    fleet: { input: { appliances: ['sps-sim-1', 'sps-sim-9'] } },
    expect: 'FAILED Input.Invalid',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'precheck fails on one appliance (staging)',
    fleet: { appliances: fleetOf({ 'sps-sim-2': 'precheck-fails' }) },
    expect: 'FAILED Fleet.StageFailed',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'the canary fails its upgrade (error budget 0)',
    fleet: { appliances: fleetOf({ 'sps-sim-1': 'upgrade-reverts' }) },
    expect: 'FAILED Fleet.ErrorBudgetExceeded',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'a cluster node never returns from its reboot (budget 1)',
    fleet: { appliances: fleetOf({ 'east-2': 'reboot-never-returns' }), input: { rollout: { maxFailures: 1 } } },
    expect: 'FAILED Fleet.ChildrenFailed',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'rejected after the canary',
    fleet: { input: { rollout: { approval: 'after-canary' } }, approve: { approved: false, reason: 'change freeze' } },
    expect: 'FAILED Fleet.Rejected',
  },
  {
    workflow: 'fleet-upgrade',
    fault: 'no one approves in time',
    fleet: { input: { rollout: { approval: 'before-upgrade' } } },
    expect: 'FAILED Fleet.ApprovalTimeout',
  },
];

export interface MatrixRow {
  workflow: WorkflowName;
  fault: string;
  end: string;
  /** Mutating calls the appliance received, in order (POST/DELETE), deduplicated. */
  changes: string;
  leftOnAppliance: string;
  s3: string;
  secrets: 'none leaked';
}

const short = (path: string) =>
  path
    .replace('/api/troubleshooting/support-bundle', 'bundle')
    .replace('/api/firmware/', '')
    .replace(/\/[0-9a-f-]{36}/, '')
    .replace(/slots\/\d+/, 'slot');

/** The mutating calls (POST/DELETE) the appliances received, in order, deduplicated. */
const changesOf = (h: Harness) => [
  ...new Set(
    h.sim.journal
      .entries()
      .filter((e) => e.method === 'POST' || e.method === 'DELETE')
      .map((e) => `${e.method} ${short(e.path)}`),
  ),
];

/**
 * Every fetch and bundle job left on the appliances (in a fleet, named by appliance); throws when
 * the run left a fetch of its own running or a failed bundle job of its own.
 */
function leftBehind(h: Harness, c: FaultCase): string {
  const journal = h.sim.journal.entries();
  const on = (name: string) => (h.sim.appliances.length > 1 ? ` on ${name}` : '');
  const left = h.sim.appliances.flatMap((a) => {
    const { fetchJobs, bundles } = a.state();
    const ours = bundles.filter((b) => journal.some((e) => e.path.includes(b.key)));
    if (fetchJobs.some((j) => !j.operator && (j.status === 'queued' || j.status === 'in-progress')))
      throw new Error(`${c.fault}: the run left a fetch running${on(a.name)}`);
    if (ours.some((b) => b.status === 'failed'))
      throw new Error(`${c.fault}: a failed bundle job was left${on(a.name)}`);
    return [
      ...fetchJobs.map((j) => `fetch ${j.status}${j.operator ? " (someone else's)" : ''}${on(a.name)}`),
      ...bundles.map((b) => `bundle ${b.status}${ours.includes(b) ? '' : " (someone else's)"}${on(a.name)}`),
    ];
  });
  return left.join(', ') || 'nothing';
}

/** The objects in S3; throws when a multipart upload was left open. */
async function storedObjects(h: Harness, c: FaultCase) {
  if (!h.s3) return [];
  const orphans = h.s3.orphanUploads();
  if (orphans.length) throw new Error(`${c.fault}: ${orphans.length} multipart upload(s) left open`);
  return h.s3.objects();
}

/**
 * A fleet run's or a fleet upgrade's case: what the appliances were asked to change (and which got
 * an upgrade POST), what is left on them, the reports (and, for archival, the bundles) in S3. The
 * secret scan covers the parent's history and every child's.
 */
async function runFleetCase(c: FaultCase): Promise<MatrixRow> {
  const h = await startHarness(c.fleet?.appliances ?? fleetOf(), { s3: true });
  try {
    await c.setup?.(h);
    const input = {
      ...(c.workflow === 'fleet-upgrade' && { firmware: firmwareInput(h).firmware }),
      ...c.fleet?.input,
    } as { workflow?: string };
    const childEvents: HistoryEvent[] = [];
    let running = 0;
    const result = await runWorkflow({
      workflow: c.workflow,
      input,
      deps: h.deps,
      wait: async (seconds) => h.sim.clock.advance(seconds * 1000),
      onChild: () => {
        running++;
        return {
          onEvent: (e: HistoryEvent) => {
            childEvents.push(e);
            if (/^Execution(Succeeded|Failed|Aborted)$/.test(e.type)) running--;
          },
        };
      },
      ...(c.fleet?.approve && { onApprovalRequest: async () => c.fleet!.approve! }),
    });
    // A child may outlive its fleet: the row describes the appliances once every child has ended.
    for (let waited = 0; running > 0; waited += 100) {
      if (waited >= 30_000)
        throw new Error(`${c.fault}: ${running} child execution(s) still running 30 s after the end`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (leakedSecrets(h, { ...result, events: [...result.events, ...childEvents] }).length)
      throw new Error(`${c.fault}: a secret leaked into the history (the parent's or a child's), logs or output`);
    const summary = (result.output as { summary?: { upgraded?: number; succeeded?: number } } | undefined)?.summary;
    const end =
      result.status === 'FAILED'
        ? `FAILED ${result.error}`
        : c.workflow === 'fleet-upgrade'
          ? `SUCCEEDED ${summary?.upgraded} upgraded`
          : `SUCCEEDED ${summary?.succeeded} succeeded`;
    const changes = changesOf(h);
    const upgraded = [
      ...new Set(
        h.sim.journal
          .entries()
          .filter((e) => e.path === '/api/firmware/upgrade')
          .map((e) => e.appliance),
      ),
    ];
    const leftOnAppliance = leftBehind(h, c);
    const objects = await storedObjects(h, c);
    const reports = `reports/${c.workflow === 'fleet-upgrade' ? c.workflow : input.workflow}/`;
    const bundles = objects.filter((o) => !o.key.startsWith('reports/')).length;
    return {
      workflow: c.workflow,
      fault: c.fault,
      end,
      changes: `${changes.join(', ') || 'none'}${upgraded.length ? `; upgrade POSTs: ${upgraded.join(', ')}` : ''}`,
      leftOnAppliance,
      s3:
        `${objects.filter((o) => o.key.startsWith(reports)).length} report object(s)` +
        (input.workflow === 'support-bundle' ? `, ${bundles} bundle object(s), 0 open upload(s)` : ''),
      secrets: 'none leaked',
    };
  } finally {
    await h.close();
  }
}

/** Runs one case and describes its outcome; throws (with the reason) when an invariant breaks. */
export async function runCase(c: FaultCase): Promise<MatrixRow> {
  if (c.workflow === 'fleet-upgrade' || c.workflow === 'fleet-run') return runFleetCase(c);
  const h = await startHarness([{ name: 'sps-sim-1', ...c.appliance }], { s3: c.workflow === 'support-bundle' });
  try {
    await c.setup?.(h);
    const input =
      c.workflow === 'firmware-upgrade'
        ? firmwareInput(h, { firmware: c.firmware, options: c.options })
        : c.workflow === 'preflight'
          ? { appliance: h.ref(), targetVersion: '8.0.1', ...(c.options ? { options: c.options } : {}) }
          : bundleInput(h, { archive: c.archive, options: c.options });
    const result = await h.run(c.workflow, input, c.onWait ? () => c.onWait!(h) : undefined);
    if (leakedSecrets(h, result).length)
      throw new Error(`${c.fault}: a secret leaked into the history, logs or output`);
    const output = result.output as { outcome?: string; verdict?: string } | undefined;
    const outcome = output?.outcome ?? (output?.verdict ? `verdict ${output.verdict}` : 'archived');
    const end = result.status === 'SUCCEEDED' ? `SUCCEEDED ${outcome}` : `FAILED ${result.error}`;
    // Invariants of every run, whatever the fault (leftBehind and storedObjects check theirs).
    const leftOnAppliance = leftBehind(h, c);
    const objects = await storedObjects(h, c);
    if (result.status === 'FAILED' && objects.length) throw new Error(`${c.fault}: a failed run stored an object`);
    return {
      workflow: c.workflow,
      fault: c.fault,
      end,
      changes: changesOf(h).join(', ') || 'none',
      leftOnAppliance,
      s3: c.workflow === 'support-bundle' ? `${objects.length} object(s), 0 open upload(s)` : 'n/a',
      secrets: 'none leaked',
    };
  } finally {
    await h.close();
  }
}

export const README = join(__dirname, '..', '..', 'README.md');
const MARKER = /<!-- fault-matrix -->[\s\S]*?<!-- \/fault-matrix -->/;

export function renderTable(rows: MatrixRow[]): string {
  const header =
    '| workflow | fault | end | changes on the appliance | left on the appliance | S3 | secrets |\n|---|---|---|---|---|---|---|';
  const lines = rows.map(
    (r) => `| ${r.workflow} | ${r.fault} | ${r.end} | ${r.changes} | ${r.leftOnAppliance} | ${r.s3} | ${r.secrets} |`,
  );
  return `<!-- fault-matrix -->\n\n${header}\n${lines.join('\n')}\n\n<!-- /fault-matrix -->`;
}

export function readmeWithTable(rows: MatrixRow[], text = readFileSync(README, 'utf8')): string {
  if (!MARKER.test(text)) throw new Error('README.md has no <!-- fault-matrix --> block');
  return text.replace(MARKER, renderTable(rows));
}

/** The cells of the README's table, whatever column alignment Prettier gave it. */
export function readmeRows(text = readFileSync(README, 'utf8')): string[][] {
  const block = MARKER.exec(text)?.[0] ?? '';
  return block
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[\s|:-]+\|$/.test(line))
    .slice(1)
    .map((line) =>
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
}

export const rowCells = (r: MatrixRow) => [r.workflow, r.fault, r.end, r.changes, r.leftOnAppliance, r.s3, r.secrets];

if (require.main === module) {
  (async () => {
    const rows: MatrixRow[] = [];
    for (const c of CASES) rows.push(await runCase(c));
    writeFileSync(README, readmeWithTable(rows));
    execFileSync(join(__dirname, '..', '..', 'node_modules', '.bin', 'prettier'), ['--write', README]);
    console.log(`README.md fault matrix regenerated (${rows.length} rows)`);
  })().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
