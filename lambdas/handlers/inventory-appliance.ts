import { inventoryAppliance } from '../operations/inventory';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(inventoryAppliance);
