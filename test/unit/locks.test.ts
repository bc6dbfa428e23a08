import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, ExecutionDoesNotExist, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { LocalLockStore, recordingLogger, type LogRecord } from '../../local/engine/adapters';
import { acquireApplianceLock } from '../../lambdas/operations/lock';
import { DynamoLockStore } from '../../lambdas/shared/locks';

const db = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const A = 'arn:aws:states:eu-west-1:123456789012:execution:upgrade:a';
const B = 'arn:aws:states:eu-west-1:123456789012:execution:archive:b';
const heldBy = (owner: string) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: { owner: { S: owner } },
  });

describe('DynamoLockStore', () => {
  const store = () => new DynamoLockStore('locks', new DynamoDBClient({}), new SFNClient({}));
  beforeEach(() => {
    db.reset();
    sfn.reset();
  });

  it('takes a free appliance with a conditional put', async () => {
    db.on(PutItemCommand).resolves({});
    await expect(store().acquire('sps-1', A)).resolves.toBeUndefined();
    expect(db).toHaveReceivedCommandWith(PutItemCommand, {
      TableName: 'locks',
      Item: expect.objectContaining({ appliance: { S: 'sps-1' }, owner: { S: A } }),
      ConditionExpression: 'attribute_not_exists(appliance) OR #owner = :owner',
      ExpressionAttributeValues: { ':owner': { S: A } },
    });
  });

  it('names the running execution that holds the appliance, and takes nothing', async () => {
    db.on(PutItemCommand).rejects(heldBy(B));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    await expect(store().acquire('sps-1', A)).resolves.toBe(B);
    expect(db).toHaveReceivedCommandTimes(PutItemCommand, 1);
    expect(sfn).toHaveReceivedCommandWith(DescribeExecutionCommand, { executionArn: B, includedData: 'METADATA_ONLY' });
  });

  it.each([
    ['ended without giving it up', () => sfn.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' })],
    [
      'no longer exists',
      () => sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} })),
    ],
  ])('takes over from a holder that %s, on condition that it still holds it', async (_, holderState) => {
    db.on(PutItemCommand).rejectsOnce(heldBy(B)).resolves({});
    holderState();
    await expect(store().acquire('sps-1', A)).resolves.toBeUndefined();
    expect(db).toHaveReceivedNthSpecificCommandWith(2, PutItemCommand, {
      ConditionExpression: '#owner = :stale',
      ExpressionAttributeValues: { ':stale': { S: B } },
    });
  });

  it('loses a takeover race to the execution that won it', async () => {
    db.on(PutItemCommand).rejectsOnce(heldBy(B)).rejects(heldBy('arn:c'));
    sfn.on(DescribeExecutionCommand).resolves({ status: 'TIMED_OUT' });
    await expect(store().acquire('sps-1', A)).resolves.toBe('arn:c');
  });

  it('releases only its own lock', async () => {
    db.on(DeleteItemCommand).rejects(heldBy(B));
    await expect(store().release('sps-1', A)).resolves.toBeUndefined();
    expect(db).toHaveReceivedCommandWith(DeleteItemCommand, {
      Key: { appliance: { S: 'sps-1' } },
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeValues: { ':owner': { S: A } },
    });
  });

  it('lets DynamoDB failures through (the operation names them)', async () => {
    db.on(PutItemCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(store().acquire('sps-1', A)).rejects.toThrow('denied');
  });
});

describe('LocalLockStore', () => {
  it('turns away others while the holder runs, and frees the appliance when it stops', async () => {
    const running = new Set([A, B]);
    const locks = new LocalLockStore((e) => running.has(e));
    await expect(locks.acquire('sps-1', A)).resolves.toBeUndefined();
    await expect(locks.acquire('sps-1', A)).resolves.toBeUndefined();
    await expect(locks.acquire('sps-1', B)).resolves.toBe(A);
    await expect(locks.acquire('sps-2', B)).resolves.toBeUndefined();
    await locks.release('sps-1', B);
    await expect(locks.acquire('sps-1', B)).resolves.toBe(A);
    running.delete(A);
    await expect(locks.acquire('sps-1', B)).resolves.toBeUndefined();
  });
});

describe('acquire-appliance-lock', () => {
  it('fails with Sps.Busy naming the holder, and logs under the appliance name', async () => {
    const records: LogRecord[] = [];
    const deps = {
      secrets: { get: async () => undefined, put: async () => {}, list: async () => [] },
      clock: { now: () => 0 },
      sessionSecretPrefix: 's/',
      credentialsSecretPrefix: 'sps/',
      logger: (keys: Record<string, unknown>) => recordingLogger((r) => records.push(r), keys),
      locks: new LocalLockStore(() => true),
    };
    await acquireApplianceLock.run({ applianceName: 'sps-1', executionId: A }, deps);
    await expect(acquireApplianceLock.run({ applianceName: 'sps-1', executionId: B }, deps)).rejects.toMatchObject({
      name: 'Sps.Busy',
      message: `sps-1 is busy: execution ${A} is working on it`,
    });
    expect(records.map((r) => [r.message, r.appliance])).toEqual([
      ['appliance taken', 'sps-1'],
      ['acquire-appliance-lock done', 'sps-1'],
      ['acquire-appliance-lock failed', 'sps-1'],
    ]);
  });
});
