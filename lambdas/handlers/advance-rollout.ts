import { advanceRolloutOperation } from '../operations/rollout';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(advanceRolloutOperation);
