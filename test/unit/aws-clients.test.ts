import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerStore } from '../../lambdas/shared/aws';
import { AWS_CLIENT_SETTINGS } from '../../lambdas/shared/aws-clients';
import { DynamoLockStore } from '../../lambdas/shared/locks';

/* Every AWS client the functions build gives up on a stalled connection or request (a VPC without its endpoints). */

let server: Server;
beforeAll(async () => {
  // A stand-in AWS endpoint on loopback that answers every request with an empty JSON document.
  server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end('{}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL;
  await new Promise<void>((r) => server.close(() => r()));
});

type Client = { send(command: unknown): Promise<unknown>; config: { requestHandler: unknown } };
const timeouts = async (client: Client, command: unknown) => {
  await client.send(command).catch(() => undefined);
  return (client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> }).httpHandlerConfigs();
};

it.each([
  ['Secrets Manager', () => (new SecretsManagerStore() as unknown as { client: Client }).client],
  ['DynamoDB', () => (new DynamoLockStore('t') as unknown as { db: Client }).db],
  ['Step Functions', () => (new DynamoLockStore('t') as unknown as { sfn: Client }).sfn],
])('the %s client has connect and request timeouts', async (_name, client) => {
  expect(await timeouts(client(), new GetSecretValueCommand({ SecretId: 'x' }))).toMatchObject(
    AWS_CLIENT_SETTINGS.requestHandler,
  );
});
