import { deleteFirmwareSlot } from '../operations/firmware';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(deleteFirmwareSlot);
