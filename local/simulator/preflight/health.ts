import { unknownPath } from '../answers';
import { SESSION_PROTOCOLS, type ApplianceChecklist, type FirmwarePart } from '../options';
import { routesOf, type RouteModule } from '../router';
import type { PreflightState } from './state';

/*
 * GET /api/health_status (NOTES §2.6; the vendor sample of the 7.2–8.0 REST API reference, "Monitor
 * the health status of an appliance", is test/fixtures/sps/health-status.json). Figures the
 * checklist does not look at are fixed, plausible values.
 */

/**
 * Where the document sits in the answer. NOTES and the vendor sample put `health_status` at the
 * top level, with no `body` and no meta; whether a real answer wraps it in `body` is not documented.
 */
const answerOf = (health: Record<string, unknown>) => ({ health_status: health });

/** 500 GiB: the appliance's data disk. */
const DISK_TOTAL = 536_870_912_000;

const RAID_DISKS = ['252:0', '252:1', '252:2', '252:3'];
/** The sample's RAID (four disks, all OK), one with a failed disk, and no RAID (the key is absent). */
const RAID = {
  OK: {
    disks: Object.fromEntries(RAID_DISKS.map((d) => [d, { status: 'OK' }])),
    status: { detailed_status: 'OK', operation_progress: 0, status: 'OK' },
  },
  // inferred: the docs show only "OK"; any other status means the array is not healthy.
  DEGRADED: {
    disks: Object.fromEntries(RAID_DISKS.map((d) => [d, { status: d === '252:1' ? 'FAILED' : 'OK' }])),
    status: { detailed_status: 'DEGRADED', operation_progress: 0, status: 'DEGRADED' },
  },
};

/** The sample's indexer: three idle workers. */
const INDEXER = {
  indexer_status: [['index'], ['screenshot', 'video'], ['video']].map((capabilities) => ({
    capabilities,
    idle_workers_count: 1,
    indexer_jobs: 0,
    ip: '127.0.0.1',
    screenshot_jobs: 0,
    video_jobs: 0,
    workers_count: 1,
  })),
  processing_tasks: [],
  remaining_tasks: [],
  worker_warnings: [],
};

type HealthSettings = Pick<
  Required<ApplianceChecklist>,
  'diskUsedPercent' | 'firmwareIntegrity' | 'raid' | 'sessionsInProgress'
>;

export function healthStatus(settings: HealthSettings): Record<string, unknown> {
  const integrity = (part: FirmwarePart) => settings.firmwareIntegrity[part] ?? 'OK';
  const sessions = Object.fromEntries(SESSION_PROTOCOLS.map((p) => [p, settings.sessionsInProgress[p] ?? 0]));
  // `percent` is the USED share (the sample's `disk` and `system_details.disk.percent` agree; the
  // Dashboard's disk module is `df`), so free = total - used.
  const percent = settings.diskUsedPercent;
  const used = Math.round((DISK_TOTAL * percent) / 100);
  return {
    cpu: 3.0,
    disk: percent,
    firmware: {
      // The sample has counts here (`"boot": 1`); a corrupted part has one modified file.
      tainted_files: {
        boot: integrity('boot') === 'OK' ? 0 : 1,
        core: integrity('core') === 'OK' ? 0 : 1,
        ha_other: 0,
      },
      integrity: { boot: integrity('boot'), core: integrity('core') },
    },
    indexer: INDEXER,
    load1: 0.42,
    load15: 0.3,
    load5: 0.37,
    memory: 31.5,
    pipeline_queues: { session_events: 0.0, indexer_events: 0.0 },
    ...(settings.raid === null ? {} : { raid: RAID[settings.raid] }),
    sessions,
    sessions_total: Object.values(sessions).reduce((a, b) => a + b, 0),
    swap: 0.0,
    system_details: {
      cpu: {
        guest: 0.0,
        guest_nice: 0.0,
        idle: 97.0,
        iowait: 0.0,
        irq: 0.0,
        nice: 0.0,
        softirq: 0.0,
        steal: 0.0,
        system: 2.0,
        user: 1.0,
      },
      disk: { free: DISK_TOTAL - used, percent, total: DISK_TOTAL },
    },
  };
}

const route = routesOf<PreflightState>();

// No prefix: on a firmware without the endpoint, every method gets the 404.
export const HEALTH_ROUTES: RouteModule<PreflightState> = {
  routes: [
    route('/api/health_status', {
      // An older firmware has no such endpoint: the 404 any unknown path gets.
      GET: ({ req, state }) =>
        state.settings.healthStatusEndpoint
          ? { kind: 'json', status: 200, body: answerOf(healthStatus(state.settings)) }
          : unknownPath(req.path),
    }),
  ],
};
