import { randomUUID } from 'node:crypto';
import { isoSeconds, type SimRequest } from './answers';
import { bundleSha256 } from './content';
import type { Settings } from './options';
import { routesOf, type RouteModule } from './router';
import type { Behaviour, InitialState } from './scenarios';

/* The support-bundle queue: jobs that generate one after the other, and their downloads. */

const HOUR = 3600_000;

interface BundleJob {
  key: string;
  createdAt: number;
  generateMs: number;
  fails: boolean;
  deletedAt?: number;
  downloads: number;
}

type BundleSettings = Pick<Settings, 'bundleBytes' | 'bundleGenerateSeconds' | 'bundleCreateResponse'>;

export class SupportBundles {
  private readonly jobs: BundleJob[] = [];

  constructor(
    readonly settings: BundleSettings,
    readonly behaviour: () => Behaviour,
    /** Whether an injected fault breaks this download off. */
    readonly truncates: (req: SimRequest) => boolean,
    now: number,
    initial: InitialState = {},
  ) {
    if (initial.queuedBundle) {
      this.jobs.push({
        key: randomUUID(),
        createdAt: now,
        generateMs: initial.queuedBundle.generateFactor * settings.bundleGenerateSeconds * 1000,
        fails: false,
        downloads: 0,
      });
    }
  }

  create(now: number): BundleJob {
    const job: BundleJob = {
      key: randomUUID(),
      createdAt: now,
      generateMs: this.settings.bundleGenerateSeconds * 1000,
      fails: this.behaviour().bundleFails ?? false,
      downloads: 0,
    };
    this.jobs.push(job);
    return job;
  }

  /** The jobs still listed: not deleted, and not older than a day after they ended. */
  visible(now: number): BundleJob[] {
    return this.schedule(now)
      .filter((s) => s.visible)
      .map((s) => s.job);
  }

  view(job: BundleJob, now: number) {
    const s = this.schedule(now).find((x) => x.job === job)!;
    const startIso = isoSeconds(s.start);
    if (now < s.start) return { status: 'queued', error: null, info: null, file_name: null, start_time: null };
    if (now < s.end) return { status: 'in-progress', error: null, info: null, file_name: null, start_time: startIso };
    if (job.fails) {
      return {
        status: 'failed',
        error: 'Timeout expired while waiting for creation of support-bundle.',
        info: null,
        file_name: null,
        start_time: startIso,
      };
    }
    return {
      status: 'finished',
      error: null,
      info: null,
      file_name: `${job.key}-debug_info.zip`,
      start_time: startIso,
    };
  }

  /** What a download of the bundle `key` holds. */
  expected(key: string): { bytes: number; sha256: string; fileName: string } {
    return {
      bytes: this.settings.bundleBytes,
      sha256: bundleSha256(key, this.settings.bundleBytes),
      fileName: `${key}-debug_info.zip`,
    };
  }

  /** Jobs run one at a time, in creation order; a deleted job frees the queue when it is deleted. */
  private schedule(now: number) {
    let previousEnd = -Infinity;
    return this.jobs.map((job) => {
      const start = Math.max(job.createdAt, previousEnd);
      const end = start + job.generateMs;
      previousEnd = job.deletedAt !== undefined ? Math.min(end, Math.max(start, job.deletedAt)) : end;
      const visible = (job.deletedAt === undefined || now < job.deletedAt) && now < end + 24 * HOUR;
      return { job, start, end, visible };
    });
  }
}

const MOUNT = '/troubleshooting/support-bundle';
const LIST = '/api/troubleshooting/support-bundle';
const meta = (key: string) => ({ href: `${LIST}/${key}`, parent: '/api/troubleshooting' });
const route = routesOf<SupportBundles>();

export const BUNDLE_ROUTES: RouteModule<SupportBundles> = {
  prefix: '/api/troubleshooting',
  routes: [
    route(LIST, {
      POST: ({ state, now, ok }) => {
        const job = state.create(now);
        const item = { key: job.key, body: state.view(job, now), meta: meta(job.key) };
        // inferred status: 201
        if (state.settings.bundleCreateResponse === 'key') return ok(item, 201);
        return ok({ items: [item], meta: { href: LIST, parent: '/api/troubleshooting' } }, 201);
      },
      GET: ({ state, now, ok }) =>
        ok({
          items: state.visible(now).map((b) => ({ key: b.key, body: state.view(b, now), meta: meta(b.key) })),
          meta: { href: LIST, parent: '/api/troubleshooting' },
        }),
    }),
    route(`${LIST}/:key`, {
      find: { item: ({ state, now, params }) => state.visible(now).find((b) => b.key === params.key), mount: MOUNT },
      GET: ({ state, now, req, ok }, job) =>
        ok({ key: job.key, body: state.view(job, now), meta: { href: req.path, parent: '/api/troubleshooting' } }),
      DELETE: ({ now, ok }, job) => {
        job.deletedAt = now;
        return ok({});
      },
    }),
    route(`${LIST}/:key/download`, {
      find: {
        item: ({ state, now, params }) => state.visible(now).find((b) => b.key === params.key),
        mount: MOUNT,
        resource: ({ key }) => `${key}/download`,
      },
      GET: ({ state, now, req, notFound }, job) => {
        const view = state.view(job, now);
        if (view.status !== 'finished') return notFound(MOUNT, `${job.key}/download`);
        job.downloads++;
        const truncate = (state.behaviour().truncateFirstDownload && job.downloads === 1) || state.truncates(req);
        const bytes = state.settings.bundleBytes;
        return {
          kind: 'download',
          key: job.key,
          fileName: view.file_name!,
          bytes,
          truncateAt: truncate ? Math.floor(bytes / 2) : undefined,
        };
      },
    }),
  ],
};
