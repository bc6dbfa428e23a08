import { archiveSupportBundle } from '../operations/archive';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(archiveSupportBundle);
