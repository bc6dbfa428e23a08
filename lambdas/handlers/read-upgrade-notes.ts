import { readUpgradeNotes } from '../operations/fleet-upgrade';
import { lambdaHandler } from '../shared/aws';

export const handler = lambdaHandler(readUpgradeNotes);
