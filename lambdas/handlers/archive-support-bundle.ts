import { archiveSupportBundle } from '../operations/support-bundle';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(archiveSupportBundle);
