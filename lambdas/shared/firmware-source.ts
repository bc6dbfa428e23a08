import type { FirmwareSlot, FirmwareSlots, ListedFirmwareFetch } from './sps/schemas';
import { compareVersions, sameVersion } from './versions';

/*
 * Where the firmware for an upgrade comes from, decided from what the appliance lists: pure, so
 * every case is a table test (the handler only carries the decision out).
 */

export type FirmwareSource =
  /** A slot already holds `expectedVersion` (an earlier run, a dry run, an operator's upload). */
  | { kind: 'slot'; slot: FirmwareSlot }
  /** A queued or running fetch of the same URL, someone else's too: followed, not started twice. */
  | { kind: 'follow'; fetch: ListedFirmwareFetch }
  /** A new fetch; `free` is the slot to delete first when none is empty. */
  | { kind: 'fetch'; free: FirmwareSlot | null }
  /** No slot for a new fetch: `candidate` is the one `freeOldestSlot` would free (never on a dry run). */
  | { kind: 'no-slot'; candidate: FirmwareSlot | null };

export interface FirmwareWanted {
  url: string;
  expectedVersion: string | null;
  freeOldestSlot: boolean;
  dryRun: boolean;
}

/**
 * Reuse needs `expectedVersion`: SPS lists no checksum, so only the precheck's check of the slot's
 * version vouches for bytes this run did not pin itself. Without it, the run always fetches.
 */
export function firmwareSource(
  slots: FirmwareSlots,
  fetches: ListedFirmwareFetch[],
  wanted: FirmwareWanted,
): FirmwareSource {
  if (wanted.expectedVersion) {
    const held = slots.slots.find((s) => !s.current && sameVersion(s.version, wanted.expectedVersion));
    if (held) return { kind: 'slot', slot: held };
    const running = fetches.find((f) => f.url === wanted.url && (f.status === 'queued' || f.status === 'in-progress'));
    if (running) return { kind: 'follow', fetch: running };
  }
  if (slots.emptyCount > 0) return { kind: 'fetch', free: null };
  const candidate = oldestFreeableSlot(slots.slots);
  return candidate && wanted.freeOldestSlot && !wanted.dryRun
    ? { kind: 'fetch', free: candidate }
    : { kind: 'no-slot', candidate };
}

/** The lowest version that is neither running nor set to boot next (SPS refuses to delete those). */
export function oldestFreeableSlot(slots: FirmwareSlot[]): FirmwareSlot | null {
  return (
    slots
      .filter((s) => !s.empty && !s.current && !s.afterReboot)
      .sort((a, b) => compareVersions(a.version ?? '', b.version ?? ''))[0] ?? null
  );
}
