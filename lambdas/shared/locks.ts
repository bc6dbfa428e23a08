import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { AWS_CLIENT_SETTINGS } from './aws-clients';
import type { LockStore } from './ports';

/**
 * Appliance locks in a DynamoDB table keyed by `appliance`, each item naming its `owner` (an
 * execution ARN). Taking a lock is a conditional put; a lock whose owner no longer runs (aborted,
 * timed out: its release never ran) is taken over, conditionally on that same owner, so two
 * executions never both win.
 */
export class DynamoLockStore implements LockStore {
  constructor(
    private readonly table: string,
    private readonly db = new DynamoDBClient({ ...AWS_CLIENT_SETTINGS }),
    private readonly sfn = new SFNClient({ ...AWS_CLIENT_SETTINGS }),
  ) {}

  async acquire(appliance: string, owner: string): Promise<string | undefined> {
    const holder = await this.put(appliance, owner);
    if (holder === undefined || (await this.running(holder))) return holder;
    return this.put(appliance, owner, holder);
  }

  async release(appliance: string, owner: string): Promise<void> {
    try {
      await this.db.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: { appliance: { S: appliance } },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  /** Puts the lock for `owner` unless someone else holds it (or, taking over, unless `stale` no longer does); returns the holder that stopped it. */
  private async put(appliance: string, owner: string, stale?: string): Promise<string | undefined> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { appliance: { S: appliance }, owner: { S: owner }, since: { S: new Date().toISOString() } },
          ConditionExpression: stale ? '#owner = :stale' : 'attribute_not_exists(appliance) OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: stale ? { ':stale': { S: stale } } : { ':owner': { S: owner } },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      return err.Item?.owner?.S ?? 'another execution';
    }
  }

  private async running(execution: string): Promise<boolean> {
    try {
      // Its status only: under a customer key, the execution's data would also need kms:Decrypt.
      const { status } = await this.sfn.send(
        new DescribeExecutionCommand({ executionArn: execution, includedData: 'METADATA_ONLY' }),
      );
      return status === 'RUNNING';
    } catch (err) {
      if (err instanceof ExecutionDoesNotExist) return false;
      throw err;
    }
  }
}
