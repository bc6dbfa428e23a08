import type { Operation } from '../shared/operation';
import * as firmware from './firmware';
import { archiveSupportBundle } from './archive';
import { validateInput } from './input';
import { acquireApplianceLock, releaseApplianceLock } from './lock';
import * as supportBundle from './support-bundle';

/** Every operation, by Lambda name. The ASL refers to each as `${<PascalName>FunctionArn}`. */
export const OPERATIONS: Record<string, Operation<unknown>> = Object.fromEntries(
  [
    validateInput,
    acquireApplianceLock,
    releaseApplianceLock,
    firmware.authenticate,
    firmware.getInfo,
    firmware.listFirmwareSlots,
    firmware.deleteFirmwareSlot,
    firmware.startFirmwareFetch,
    firmware.getFirmwareFetchStatus,
    firmware.cancelFirmwareFetch,
    firmware.testFirmware,
    firmware.upgradeFirmware,
    supportBundle.createSupportBundle,
    supportBundle.getSupportBundleStatus,
    archiveSupportBundle,
    supportBundle.deleteSupportBundle,
  ].map((op) => [op.name, op as Operation<unknown>]),
);

/** `get-firmware-fetch-status` → `GetFirmwareFetchStatusFunctionArn`: the ASL substitution key. */
export function substitutionKey(operationName: string): string {
  return `${operationName.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase())}FunctionArn`;
}
