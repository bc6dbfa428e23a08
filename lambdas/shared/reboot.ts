import { sameVersion } from './versions';

/*
 * The reboot watch's rule: from what each poll after the upgrade POST read, decide whether the
 * upgrade is proven, went wrong, or is still under way. Pure, so every case is a table test.
 */

/** What one poll read. */
export type RebootReading =
  /** No answer, a gateway error, a refused login: an appliance that is down or still booting. */
  | { kind: 'down'; problem: string }
  /** It answers, but gives no firmware version even to a fresh login. Not a version, never compared. */
  | { kind: 'no-version' }
  | {
      kind: 'running';
      version: string;
      /** The upgrade's target slot as `/api/firmware/slots` shows it (null: it is not listed). */
      target: { current: boolean; afterReboot: boolean } | null;
      /** The version in the slot marked current. */
      currentSlotVersion: string | null;
    };

/** What the watch carries from one poll to the next (in workflow state: small, secret-free). */
export interface RebootEvidence {
  polls: number;
  /** Seen down since the upgrade POST: from then on, every read uses a fresh login. */
  wentDown: boolean;
  downPolls: number;
  noVersionPolls: number;
  /** The target slot was seen marked to boot next (`after_reboot`): the appliance took the upgrade. */
  accepted: boolean;
  /** The last version read, if any. */
  lastVersion: string | null;
}

export const NO_EVIDENCE: RebootEvidence = {
  polls: 0,
  wentDown: false,
  downPolls: 0,
  noVersionPolls: 0,
  accepted: false,
  lastVersion: null,
};

export type RebootVerdict =
  /** Runs the expected version from the target slot, after a reboot (or on another version than before). */
  | 'upgraded'
  /** Came back from the reboot on the previous version, from the previous slot: the appliance reverted. */
  | 'reverted'
  /** Came back from the reboot on neither the previous nor the expected version. */
  | 'other-version'
  | 'watching';

export interface RebootTarget {
  previousVersion: string | null;
  expectedVersion: string;
}

/** Adds one reading to the evidence. */
export function observe(evidence: RebootEvidence, reading: RebootReading): RebootEvidence {
  return {
    polls: evidence.polls + 1,
    wentDown: evidence.wentDown || reading.kind === 'down',
    downPolls: evidence.downPolls + (reading.kind === 'down' ? 1 : 0),
    noVersionPolls: evidence.noVersionPolls + (reading.kind === 'no-version' ? 1 : 0),
    accepted: evidence.accepted || (reading.kind === 'running' && reading.target?.afterReboot === true),
    lastVersion: reading.kind === 'running' ? reading.version : evidence.lastVersion,
  };
}

/**
 * The verdict on the evidence including `reading`. Running the previous version after a blip is no
 * proof of anything (the blip may have come before the reboot): it is a revert only once the
 * appliance had taken the upgrade (target slot marked to boot next) and then dropped that mark.
 */
export function rebootVerdict(evidence: RebootEvidence, reading: RebootReading, target: RebootTarget): RebootVerdict {
  if (reading.kind !== 'running') return 'watching';
  const { version } = reading;
  const onPrevious = sameVersion(version, target.previousVersion);
  if (
    sameVersion(version, target.expectedVersion) &&
    reading.target?.current === true &&
    (evidence.wentDown || !onPrevious)
  ) {
    return 'upgraded';
  }
  if (!evidence.wentDown) return 'watching';
  if (
    onPrevious &&
    evidence.accepted &&
    reading.target !== null &&
    !reading.target.afterReboot &&
    !reading.target.current &&
    sameVersion(reading.currentSlotVersion, target.previousVersion)
  ) {
    return 'reverted';
  }
  if (!onPrevious && !sameVersion(version, target.expectedVersion)) return 'other-version';
  return 'watching';
}
