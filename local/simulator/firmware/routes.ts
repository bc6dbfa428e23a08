import { error, incomplete, type SimAction } from '../answers';
import { routesOf, type Call, type RouteModule } from '../router';
import type { FetchView } from './fetch-view';
import type { Firmware, SlotState } from './firmware';

/* /api/firmware: the slots, fetch jobs, the precheck (test) and the upgrade (vendor pages). */

const route = routesOf<Firmware>();

const FETCH_META = {
  parent: '/api/firmware',
  slots: '/api/firmware/slots',
  test: '/api/firmware/test',
  upgrade: '/api/firmware/upgrade',
};

function slotItem(s: SlotState) {
  return {
    key: s.key,
    body:
      s.version === undefined
        ? {}
        : {
            version: s.version,
            current: s.current,
            after_reboot: s.afterReboot,
            upgrade_news: null,
            upgrade_notes: `Release notes of ${s.version}`,
          },
    meta: { href: `/api/firmware/slots/${s.key}` },
  };
}

// A finished download links the slot it filled (vendor samples), in the list and alone.
const slotLink = (view: FetchView) =>
  view.status === 'finished' && view.slot_id !== null ? { slot: `/api/firmware/slots/${view.slot_id}` } : {};

/** precheck-fails: what the test reports. */
const FAILED_SUMMARY = ['HA check started', 'HA check failed', 'Storage check: not enough free space'];

/** `POST /api/firmware/test` (the precheck) and `/upgrade`: the same checks, then the upgrade reboots. */
function precheck(upgrade: boolean) {
  return ({ req, now, body, state, ok, notFound }: Call<Firmware>): SimAction => {
    const { path } = req;
    const slotId = body?.slot_id;
    const missing = [
      ...(slotId === undefined || slotId === null ? ['slot_id'] : []),
      ...(upgrade && typeof body?.message !== 'string' ? ['message'] : []),
    ];
    if (missing.length) {
      return incomplete(missing, path);
    }
    const slot = state.slot(String(slotId));
    if (!slot || slot.version === undefined)
      return notFound(upgrade ? '/firmware/upgrade' : '/firmware/test', String(slotId));
    const findings = state.precheckFindings();
    if (state.behaviour().precheckFails || findings.length) {
      const summary = findings.length ? ['HA check started', 'HA check finished', ...findings] : FAILED_SUMMARY;
      return error(
        400, // inferred: the docs show only the body
        'FirmwareTestFailed',
        'The firmware test failed',
        { exit_code: 1, test_summary: summary.join('\n') },
        path,
      );
    }
    if (upgrade) {
      state.upgrade(slot, now);
      // upgrade-502: carried out as above, but the web server in front of the API answers 502.
      if (state.behaviour().upgradeAnswers502) return { kind: 'html', status: 502, title: '502 Bad Gateway' };
    }
    return ok({
      body: { test_summary: 'HA check started\nHA check finished' },
      key: slot.key,
      meta: {
        href: path,
        parent: '/api/firmware',
        slot: `/api/firmware/slots/${slot.key}`,
        ...(upgrade ? {} : { upgrade: '/api/firmware/upgrade' }),
      },
    });
  };
}

export const FIRMWARE_ROUTES: RouteModule<Firmware> = {
  prefix: '/api/firmware',
  routes: [
    route('/api/firmware', {
      GET: ({ ok }) => {
        const keys = ['fetch', 'slots', 'test', 'upgrade'];
        return ok({
          items: keys.map((key) => ({ key, meta: { href: `/api/firmware/${key}` } })),
          meta: {
            href: '/api/firmware',
            parent: '/api',
            ...Object.fromEntries(keys.map((k) => [k, `/api/firmware/${k}`])),
          },
        });
      },
    }),

    route('/api/firmware/slots', {
      GET: ({ state, ok }) => {
        const current = state.slots.find((s) => s.current);
        const after = state.slots.find((s) => s.afterReboot);
        return ok({
          items: state.slots.map(slotItem),
          meta: {
            href: '/api/firmware/slots',
            parent: '/api/firmware',
            current_slot: current ? `/api/firmware/slots/${current.key}` : null,
            slot_after_reboot: after ? `/api/firmware/slots/${after.key}` : null,
            number_of_empty_slots: state.slots.filter((s) => s.version === undefined).length,
          },
        });
      },
    }),
    route('/api/firmware/slots/:key', {
      find: { item: ({ state, params }) => state.slot(params.key!), mount: '/firmware/slots' },
      GET: ({ ok }, slot) => ok(slotItem(slot)),
      DELETE: ({ req, ok, notFound }, slot) => {
        if (slot.current || slot.afterReboot) {
          return error(
            400, // inferred
            'SemanticError',
            'Deleting the current firmware, or the one after the reboot, is not allowed',
            { slot: slot.key },
            req.path,
          );
        }
        if (slot.version === undefined) return notFound('/firmware/slots', slot.key);
        slot.version = undefined;
        return ok({});
      },
    }),

    route('/api/firmware/fetch', {
      POST: ({ req, now, body, state, ok }) => {
        const { path } = req;
        const url = body?.url;
        const sha = (body?.checksum as { sha256?: unknown } | undefined)?.sha256;
        const missing = [
          ...(typeof url === 'string' ? [] : ['url']),
          ...(typeof sha === 'string' ? [] : ['checksum.sha256']),
        ];
        if (missing.length) {
          return incomplete(missing, path);
        }
        if (!/^[0-9a-fA-F]{64}$/.test(sha as string)) {
          return error(
            400,
            'InvalidFormat',
            'checksum.sha256 must be a SHA-256 hex digest',
            { path: 'checksum.sha256' },
            path,
          );
        }
        const { key } = state.requestFetch(url as string, sha as string, now);
        return ok({ key, meta: { href: `/api/firmware/fetch/${key}`, ...FETCH_META } }, 202);
      },
      GET: ({ now, state, ok }) =>
        ok({
          items: state.listedFetches().map((f) => {
            const view = state.fetchView(f, now);
            return { key: f.key, body: view, meta: { href: `/api/firmware/fetch/${f.key}`, ...slotLink(view) } };
          }),
          meta: { href: '/api/firmware/fetch', ...FETCH_META },
        }),
    }),
    route('/api/firmware/fetch/:key', {
      find: {
        item: ({ state, params }) => state.listedFetches().find((f) => f.key === params.key),
        mount: '/firmware/fetch',
      },
      GET: ({ req, now, state, ok }, job) => {
        const view = state.fetchView(job, now);
        return ok({
          key: job.key,
          body: view,
          meta: { href: req.path, parent: '/api/firmware/fetch', ...slotLink(view) },
        });
      },
      DELETE: ({ now, state, ok }, job) => {
        // "You can safely cancel running a SPS firmware file download while the status of the
        // download is queued or in-progress. [...] the status information remains in the queue,
        // and can be removed by sending a second DELETE request to the same URL." Finished,
        // failed and canceled downloads: "Remove status information" (vendor page).
        const status = state.fetchView(job, now).status;
        if (status === 'queued' || status === 'in-progress') job.canceledAt = now;
        else job.removed = true;
        return ok({});
      },
    }),

    route('/api/firmware/test', { POST: precheck(false) }),
    route('/api/firmware/upgrade', { POST: precheck(true) }),
  ],
};
