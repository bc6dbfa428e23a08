import { runPostcheck } from '../operations/preflight';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(runPostcheck);
