import { planFleetRunOperation } from '../operations/fleet';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(planFleetRunOperation);
