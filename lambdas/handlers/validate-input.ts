import { validateInput } from '../operations/input';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(validateInput);
