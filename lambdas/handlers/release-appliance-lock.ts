import { releaseApplianceLock } from '../operations/lock';
import { lambdaHandler } from '../shared/aws';
import { DynamoLockStore } from '../shared/locks';

export const handler = lambdaHandler(releaseApplianceLock, {
  locks: new DynamoLockStore(process.env.LOCK_TABLE ?? ''),
});
