import { cancelFirmwareFetch } from '../operations/firmware';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(cancelFirmwareFetch);
