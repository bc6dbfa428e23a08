import { acquireApplianceLock } from '../operations/lock';
import { lambdaHandler } from '../shared/aws';
import { DynamoLockStore } from '../shared/locks';

export const handler = lambdaHandler(acquireApplianceLock, {
  locks: new DynamoLockStore(process.env.LOCK_TABLE ?? ''),
});
