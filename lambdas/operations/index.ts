import type { Operation } from '../shared/operation';
import * as firmware from './firmware';
import { archiveSupportBundle } from './archive';
import type { OperationName } from './catalog';
import { planFleetRunOperation, reportFleetRunOperation } from './fleet';
import { planFleetUpgrade, readUpgradeNotes } from './fleet-upgrade';
import { advanceRolloutOperation, reportFleetUpgradeOperation } from './rollout';
import { validateInput } from './input';
import { acquireApplianceLock, releaseApplianceLock } from './lock';
import { runPostcheck, runPreflight } from './preflight';
import * as supportBundle from './support-bundle';

export { OPERATION_NAMES, substitutionKey, type OperationName } from './catalog';

/** Every operation, by its name in the catalogue: one missing (or extra) does not compile. */
export const OPERATIONS: Record<OperationName, Operation<unknown>> = {
  'validate-input': validateInput,
  'acquire-appliance-lock': acquireApplianceLock,
  'release-appliance-lock': releaseApplianceLock,
  authenticate: firmware.authenticate,
  'get-info': firmware.getInfo,
  'start-firmware-fetch': firmware.startFirmwareFetch,
  'get-firmware-fetch-status': firmware.getFirmwareFetchStatus,
  'cancel-firmware-fetch': firmware.cancelFirmwareFetch,
  'test-firmware': firmware.testFirmware,
  'upgrade-firmware': firmware.upgradeFirmware,
  'create-support-bundle': supportBundle.createSupportBundle,
  'get-support-bundle-status': supportBundle.getSupportBundleStatus,
  'archive-support-bundle': archiveSupportBundle,
  'delete-support-bundle': supportBundle.deleteSupportBundle,
  'run-preflight': runPreflight,
  'run-postcheck': runPostcheck,
  'plan-fleet-upgrade': planFleetUpgrade,
  'advance-rollout': advanceRolloutOperation,
  'report-fleet-upgrade': reportFleetUpgradeOperation,
  'read-upgrade-notes': readUpgradeNotes,
  'plan-fleet-run': planFleetRunOperation,
  'report-fleet-run': reportFleetRunOperation,
};
