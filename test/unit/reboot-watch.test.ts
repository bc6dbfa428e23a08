import { NO_EVIDENCE, observe, rebootVerdict, type RebootReading } from '../../lambdas/shared/reboot';

/* The reboot watch's rule: each row is a sequence of polls after the upgrade POST and the verdict. */

const target = { previousVersion: '7.5.1', expectedVersion: '8.0.1' };
const down: RebootReading = { kind: 'down', problem: 'GET /api/info: connection failed (ECONNREFUSED)' };
const noVersion: RebootReading = { kind: 'no-version' };
/** Running `version`; the target slot (2) current / set to boot next; the current slot's version. */
const running = (
  version: string,
  slot: { current: boolean; afterReboot: boolean } | null,
  currentSlotVersion: string | null = version,
): RebootReading => ({ kind: 'running', version, target: slot, currentSlotVersion });

const before = running('7.5.1', { current: false, afterReboot: true }, '7.5.1');
const notMarked = running('7.5.1', { current: false, afterReboot: false }, '7.5.1');
const upgraded = running('8.0.1', { current: true, afterReboot: true }, '8.0.1');
const reverted = running('7.5.1', { current: false, afterReboot: false }, '7.5.1');

function verdicts(readings: RebootReading[]) {
  let evidence = NO_EVIDENCE;
  return readings.map((reading) => {
    evidence = observe(evidence, reading);
    return rebootVerdict(evidence, reading, target);
  });
}

describe('reboot verdict', () => {
  it.each([
    ['the appliance took the upgrade, went down and came back upgraded', 'upgraded', [before, down, down, upgraded]],
    ['it went down before the first poll and came back upgraded', 'upgraded', [down, upgraded]],
    ['it answered without a version in between', 'upgraded', [before, down, noVersion, upgraded]],
    ['it runs the new version without being seen down', 'upgraded', [upgraded]],
    [
      'it runs the new version but the slot is not current yet',
      'watching',
      [down, running('8.0.1', { current: false, afterReboot: true }, '7.5.1')],
    ],
    ['it still runs the previous version, upgrade pending', 'watching', [before, before]],
    [
      'a blip before the reboot: still the previous version, slot still set to boot',
      'watching',
      [before, down, before],
    ],
    ['a blip, and the upgrade was never seen taken', 'watching', [notMarked, down, notMarked]],
    ['it answers but gives no version', 'watching', [before, down, noVersion, noVersion]],
    ['it is down', 'watching', [down, down]],
    ['it took the upgrade, rebooted and came back on the previous slot', 'reverted', [before, down, reverted]],
    ['it came back on a third version', 'other-version', [before, down, running('6.0.0', null, '6.0.0')]],
  ])('when %s, the verdict is %s', (_what, verdict, readings) => {
    expect(verdicts(readings as RebootReading[]).at(-1)).toBe(verdict);
  });

  it('a version it has not seen is never taken for one it has: no-version readings are counted apart', () => {
    let evidence = NO_EVIDENCE;
    for (const r of [before, down, noVersion, noVersion]) evidence = observe(evidence, r);
    expect(evidence).toEqual({
      polls: 4,
      wentDown: true,
      downPolls: 1,
      noVersionPolls: 2,
      accepted: true,
      lastVersion: '7.5.1',
    });
    expect(rebootVerdict(evidence, noVersion, { previousVersion: null, expectedVersion: '8.0.1' })).toBe('watching');
  });

  it('without a known previous version, nothing is taken for a revert', () => {
    let evidence = NO_EVIDENCE;
    for (const r of [before, down, reverted]) evidence = observe(evidence, r);
    expect(rebootVerdict(evidence, reverted, { previousVersion: null, expectedVersion: '8.0.1' })).toBe(
      'other-version',
    );
  });
});
