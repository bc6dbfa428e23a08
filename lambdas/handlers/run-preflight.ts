import { runPreflight } from '../operations/preflight';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(runPreflight);
