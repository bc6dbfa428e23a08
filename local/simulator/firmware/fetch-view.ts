import { isoSeconds } from '../answers';

/* A fetch job as `GET /api/firmware/fetch/<key>` shows it at a given time (vendor samples). */

export interface FetchJob {
  key: string;
  url: string;
  version: string;
  checksumOk: boolean;
  createdAt: number;
  canceledAt?: number;
  removed: boolean;
  /** Started by an operator in the web interface, not through the REST API (tests tell theirs apart). */
  operator: boolean;
  /** Set once the job has finished and filled a slot (or failed for want of one). */
  outcome?: { status: 'finished'; slotId: number } | { status: 'failed'; error: string };
}

export const QUEUED_MS = 2_000;
export const VERIFY_MS = 10_000;
const FETCH_ERROR =
  "<class 'requests.exceptions.ConnectionError'>: HTTPConnectionPool(host='downloads.example.internal', port=443): Max retries exceeded with url: /sps.iso (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7fc45e0e1ac0>: Failed to establish a new connection: [Errno 111] Connection refused'))";

export interface FetchTiming {
  /** The image's size. */
  bytes: number;
  /** How long the download itself takes (without queueing and checksum verification). */
  downloadMs: number;
  /** `fetch-fails`: the download fails a third of the way in. */
  fails: boolean;
}

/** Uneven but steady progress: the rate swings between 0.5× and 1.5× of the average. */
function downloadedFraction(x: number): number {
  const k = 3;
  return Math.min(1, Math.max(0, x - (0.5 / (2 * Math.PI * k)) * Math.sin(2 * Math.PI * k * x)));
}

export function fetchView(job: FetchJob, now: number, { bytes: total, downloadMs, fails }: FetchTiming) {
  const base = {
    url: job.url,
    start_time: null as string | null,
    error: null as string | null,
    info: null as string | null,
    slot_id: null as number | null,
  };
  const started = job.createdAt + QUEUED_MS;
  const at = job.canceledAt ?? now;
  const startIso = isoSeconds(started);
  const bytesAt = (t: number) => Math.floor(downloadedFraction((t - started) / downloadMs) * total);
  if (job.canceledAt !== undefined) {
    return {
      ...base,
      status: 'canceled',
      bytes_downloaded: at < started ? 0 : bytesAt(at),
      bytes_total: at < started ? 0 : total,
      start_time: at < started ? null : startIso,
    };
  }
  if (now < started) return { ...base, status: 'queued', bytes_downloaded: 0, bytes_total: 0 };
  if (job.outcome?.status === 'finished') {
    return {
      ...base,
      status: 'finished',
      bytes_downloaded: total,
      bytes_total: total,
      start_time: startIso,
      slot_id: job.outcome.slotId,
    };
  }
  if (job.outcome?.status === 'failed') {
    return {
      ...base,
      status: 'failed',
      bytes_downloaded: total,
      bytes_total: total,
      start_time: startIso,
      error: job.outcome.error,
      info: 'Firmware fetching failed',
    };
  }
  if (fails && now >= started + 0.3 * downloadMs) {
    return {
      ...base,
      status: 'failed',
      bytes_downloaded: 0,
      bytes_total: 0,
      start_time: startIso,
      error: FETCH_ERROR,
      info: 'Firmware fetching failed',
    };
  }
  if (now < started + downloadMs) {
    return {
      ...base,
      status: 'in-progress',
      bytes_downloaded: bytesAt(now),
      bytes_total: total,
      start_time: startIso,
      info: 'Downloading',
    };
  }
  return {
    ...base,
    status: 'in-progress',
    bytes_downloaded: total,
    bytes_total: total,
    start_time: startIso,
    info: 'Verifying checksum',
  };
}

export type FetchView = ReturnType<typeof fetchView>;
