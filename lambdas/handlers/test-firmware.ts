import { testFirmware } from '../operations/firmware';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(testFirmware);
