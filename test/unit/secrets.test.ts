import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerStore } from '../../lambdas/shared/aws';
import { readCredentials, SecretSessionStore } from '../../lambdas/shared/credentials';

const sm = mockClient(SecretsManagerClient);
const notFound = () =>
  new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} });
const denied = () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
const PASSWORD = 'Tr0ub4dor&3-not-in-errors';

beforeEach(() => sm.reset());

describe('SecretsManagerStore', () => {
  const store = () => new SecretsManagerStore(new SecretsManagerClient({}));

  it('reads a secret string and answers undefined for a missing secret', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'sps/a' }).resolves({ SecretString: '{"x":1}' });
    sm.on(GetSecretValueCommand, { SecretId: 'sps/missing' }).rejects(notFound());
    await expect(store().get('sps/a')).resolves.toBe('{"x":1}');
    await expect(store().get('sps/missing')).resolves.toBeUndefined();
  });

  it('maps access denied to Secrets.AccessDenied naming the secret, not its value', async () => {
    sm.on(GetSecretValueCommand).rejects(denied());
    await expect(store().get('sps/a')).rejects.toMatchObject({
      name: 'Secrets.AccessDenied',
      message: expect.stringContaining('"sps/a"'),
    });
  });

  it('writes with PutSecretValue and creates the secret on first use', async () => {
    sm.on(PutSecretValueCommand, { SecretId: 'sessions/a' }).resolves({});
    sm.on(PutSecretValueCommand, { SecretId: 'sessions/new' }).rejects(notFound());
    sm.on(CreateSecretCommand).resolves({});
    await store().put('sessions/a', 'v1');
    await store().put('sessions/new', 'v2', 'desc');
    expect(sm).toHaveReceivedCommandWith(PutSecretValueCommand, { SecretId: 'sessions/a', SecretString: 'v1' });
    expect(sm).toHaveReceivedCommandWith(CreateSecretCommand, {
      Name: 'sessions/new',
      SecretString: 'v2',
      Description: 'desc',
    });
    expect(sm).toHaveReceivedCommandTimes(CreateSecretCommand, 1);
  });

  it('writes over a secret another invocation created between its put and its create', async () => {
    sm.on(PutSecretValueCommand).rejectsOnce(notFound()).resolves({});
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    await store().put('sessions/raced', 'v3');
    expect(sm).toHaveReceivedCommandTimes(PutSecretValueCommand, 2);
    expect(sm).toHaveReceivedNthSpecificCommandWith(2, PutSecretValueCommand, {
      SecretId: 'sessions/raced',
      SecretString: 'v3',
    });
  });

  it('fails with a named error when the write is denied, without the value', async () => {
    sm.on(PutSecretValueCommand).rejects(denied());
    const err = (await store()
      .put('sessions/a', PASSWORD)
      .catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ name: 'Secrets.AccessDenied' });
    expect(`${err.message} ${err.stack}`).not.toContain(PASSWORD);
  });

  it('lists the names under a prefix across pages, exactly (the name filter ignores case)', async () => {
    sm.on(ListSecretsCommand)
      .resolvesOnce({ SecretList: [{ Name: 'sps/b' }, { Name: 'SPS/upper' }], NextToken: 't1' })
      .resolvesOnce({ SecretList: [{ Name: 'sps/a' }, {}] });
    await expect(store().list('sps/')).resolves.toEqual(['sps/a', 'sps/b']);
    expect(sm).toHaveReceivedCommandTimes(ListSecretsCommand, 2);
    expect(sm).toHaveReceivedNthSpecificCommandWith(1, ListSecretsCommand, {
      Filters: [{ Key: 'name', Values: ['sps/'] }],
    });
    expect(sm).toHaveReceivedNthSpecificCommandWith(2, ListSecretsCommand, { NextToken: 't1' });
  });

  it('fails listing with a named error', async () => {
    sm.on(ListSecretsCommand).rejects(denied());
    await expect(store().list('sps/')).rejects.toMatchObject({
      name: 'Secrets.AccessDenied',
      message: expect.stringContaining('sps/*'),
    });
  });
});

describe('credentials and session secrets', () => {
  const storeWith = (values: Record<string, string>) => ({
    get: async (id: string) => values[id],
    put: async (id: string, value: string) => {
      values[id] = value;
    },
    list: async () => [],
  });

  it('reads the credentials secret with its optional fields', async () => {
    const secrets = storeWith({
      c: JSON.stringify({ endpoint: 'https://sps1/', username: 'u', password: PASSWORD, loginMethod: 'local' }),
    });
    await expect(readCredentials(secrets, 'c')).resolves.toMatchObject({
      endpoint: 'https://sps1',
      username: 'u',
      loginMethod: 'local',
    });
  });

  it.each([
    ['missing', {}, 'Secrets.NotFound'],
    ['not JSON', { c: `password=${PASSWORD}` }, 'Secrets.Invalid'],
    ['no password', { c: JSON.stringify({ endpoint: 'https://sps1', username: 'u' }) }, 'Secrets.Invalid'],
    [
      'bad CA',
      { c: JSON.stringify({ endpoint: 'https://sps1', username: 'u', password: PASSWORD, caCertificate: 'nope' }) },
      'Secrets.Invalid',
    ],
    ['no endpoint', { c: JSON.stringify({ username: 'u', password: PASSWORD }) }, 'Secrets.Invalid'],
    [
      'plain-HTTP endpoint not allowed explicitly',
      { c: JSON.stringify({ endpoint: 'http://sps1', username: 'u', password: PASSWORD }) },
      'Secrets.Invalid',
    ],
  ])('rejects a %s credentials secret without echoing it', async (_case, values, name) => {
    const err = await readCredentials(storeWith(values as Record<string, string>), 'c').catch(
      (e: unknown) => e as Error,
    );
    expect(err.name).toBe(name);
    expect(err.message).not.toContain(PASSWORD);
  });

  it('keeps the session id in the session secret and ignores an unreadable one', async () => {
    const values: Record<string, string> = {};
    const sessions = new SecretSessionStore(storeWith(values), 's');
    await expect(sessions.load()).resolves.toBeUndefined();
    await sessions.save('abc');
    expect(JSON.parse(values.s!)).toEqual({ sessionId: 'abc' });
    await expect(sessions.load()).resolves.toBe('abc');
    values.s = 'garbage';
    await expect(sessions.load()).resolves.toBeUndefined();
  });
});
