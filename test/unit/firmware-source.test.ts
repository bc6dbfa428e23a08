import { firmwareSource, type FirmwareWanted } from '../../lambdas/shared/firmware-source';
import { newBundleJob } from '../../lambdas/shared/bundle-jobs';
import type { FirmwareSlot, ListedFirmwareFetch } from '../../lambdas/shared/sps/schemas';

/* Where an upgrade's firmware comes from, and which bundle job a POST created: pure rules, table-tested. */

const URL = 'https://downloads.example.internal/sps-8.0.1.iso';
const slot = (id: string, version: string | null, flags: Partial<FirmwareSlot> = {}): FirmwareSlot => ({
  id,
  version,
  empty: version === null,
  current: false,
  afterReboot: false,
  upgradeNotes: null,
  ...flags,
});
const slots = (...list: FirmwareSlot[]) => ({
  slots: list,
  current: list.find((s) => s.current) ?? null,
  afterReboot: list.find((s) => s.afterReboot) ?? null,
  emptyCount: list.filter((s) => s.empty).length,
});
const fetch = (key: string, status: string, url = URL): ListedFirmwareFetch => ({
  key,
  status,
  url,
  bytesDownloaded: 0,
  bytesTotal: 0,
  error: null,
  info: null,
  slotId: null,
  startTime: null,
});
const running = slot('1', '7.5.1', { current: true, afterReboot: true });
const want = (extra: Partial<FirmwareWanted> = {}): FirmwareWanted => ({
  url: URL,
  expectedVersion: '8.0.1',
  freeOldestSlot: false,
  dryRun: false,
  ...extra,
});

describe('firmware source', () => {
  it.each([
    ['a slot holds the expected version', slots(running, slot('2', '8.0.1'), slot('3', null)), [], want(), 'slot 2'],
    ['a slot holds it as "8.0.1.0"', slots(running, slot('2', '8.0.1.0')), [], want(), 'slot 2'],
    [
      "someone else's fetch of the URL runs",
      slots(running, slot('2', null)),
      [fetch('k1', 'finished'), fetch('k2', 'in-progress')],
      want(),
      'follow k2',
    ],
    [
      'a fetch of another URL runs',
      slots(running, slot('2', null)),
      [fetch('k2', 'queued', 'https://x/other.iso')],
      want(),
      'fetch',
    ],
    [
      'no expectedVersion: nothing vouches for a reuse',
      slots(running, slot('2', '8.0.1'), slot('3', null)),
      [fetch('k2', 'in-progress')],
      want({ expectedVersion: null }),
      'fetch',
    ],
    [
      'a fetch with an unknown status is not followed',
      slots(running, slot('2', null)),
      [fetch('k2', 'paused')],
      want(),
      'fetch',
    ],
    [
      'no empty slot, freeOldestSlot: the lowest version neither running nor set to boot',
      slots(running, slot('2', '7.10.0'), slot('3', '7.9.0'), slot('4', '6.0.0', { afterReboot: true })),
      [],
      want({ freeOldestSlot: true }),
      'fetch, freeing 3',
    ],
    ['no empty slot', slots(running, slot('2', '7.0.1')), [], want(), 'no slot (2 could be freed)'],
    [
      'no empty slot, on a dry run',
      slots(running, slot('2', '7.0.1')),
      [],
      want({ freeOldestSlot: true, dryRun: true }),
      'no slot (2 could be freed)',
    ],
    [
      'no empty slot and none freeable',
      slots(running, slot('2', '7.0.1', { afterReboot: true })),
      [],
      want({ freeOldestSlot: true }),
      'no slot (none freeable)',
    ],
  ])('when %s: %s', (_what, list, fetches, wanted, expected) => {
    const source = firmwareSource(list, fetches as ListedFirmwareFetch[], wanted);
    const said =
      source.kind === 'slot'
        ? `slot ${source.slot.id}`
        : source.kind === 'follow'
          ? `follow ${source.fetch.key}`
          : source.kind === 'fetch'
            ? `fetch${source.free ? `, freeing ${source.free.id}` : ''}`
            : `no slot (${source.candidate ? `${source.candidate.id} could be freed` : 'none freeable'})`;
    expect(said).toBe(expected);
  });
});

describe('new bundle job', () => {
  it.each([
    ['the answer names a new key', ['a'], 'b', undefined, { kind: 'found', key: 'b' }],
    ['the answer names a key already there', ['a', 'b'], 'b', undefined, { kind: 'list-again' }],
    ['listed again, one new key', ['a', 'b'], 'b', ['a', 'b', 'c'], { kind: 'found', key: 'c' }],
    ['listed again, two new keys (another client)', ['a'], 'a', ['a', 'c', 'd'], { kind: 'ambiguous', newJobs: 2 }],
    ['listed again, nothing new', ['a'], 'a', ['a'], { kind: 'ambiguous', newJobs: 0 }],
  ])('when %s', (_what, before, answered, after, expected) => {
    expect(newBundleJob(before, answered, after)).toEqual(expected);
  });
});
