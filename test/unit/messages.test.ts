import { createServer, type AddressInfo, type Server } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerStore } from '../../lambdas/shared/aws';
import { SpsConnectionError, SpsTlsError } from '../../lambdas/shared/errors';
import { SpsClient } from '../../lambdas/shared/sps/client';
import { storedBundleFooter } from '../../local/run/footer';
import { jsonSyntaxError } from '../../local/run/json-file';
import { startSimulator, type Simulator } from '../../local/simulator';
import { closedPort } from '../helpers/ports';

/*
 * What a user reads when the setup is wrong: each message names what to change. Loopback only:
 * refused ports are closed ports on 127.0.0.1, and the AWS SDK never gets credentials or an
 * endpoint beyond 127.0.0.1.
 */

const PASSWORD = 'sim-Pa55w0rd-never-in-a-message';

/** The error a login to `endpoint` ends with (one attempt: no retries to wait for). */
async function loginError(endpoint: string, options: { allowRetry?: boolean } = {}): Promise<Error> {
  const client = new SpsClient({
    endpoint,
    credentials: { username: 'api-user', password: PASSWORD },
    retry: options.allowRetry ? undefined : { attempts: 1 },
  });
  try {
    await client.login();
  } catch (err) {
    return err as Error;
  } finally {
    await client.close();
  }
  throw new Error(`expected the login to ${endpoint} to fail`);
}

describe('SPS connection messages (transportError)', () => {
  let https: Simulator;
  let http: Simulator;
  beforeAll(async () => {
    [https, http] = await Promise.all([
      startSimulator({ appliances: [{ name: 'sps-https' }] }),
      startSimulator({ appliances: [{ name: 'sps-http' }], protocol: 'http' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([https.close(), http.close()]);
  });

  it('when nothing listens on the port, it names the host and port and asks whether the appliance runs', async () => {
    const port = await closedPort();
    const err = await loginError(`https://127.0.0.1:${port}`);
    expect(err).toBeInstanceOf(SpsConnectionError);
    expect(err.message).toBe(
      `GET /api/authentication: nothing listens on 127.0.0.1:${port} (ECONNREFUSED): check the endpoint's host and port, and that the appliance (or the simulator) is running`,
    );
  });

  it('when http:// meets an HTTPS port, it says the appliance speaks HTTPS and to use https://', async () => {
    const endpoint = https.appliances[0]!.endpoint.replace(/^https:/, 'http:');
    const err = await loginError(endpoint);
    expect(err).toBeInstanceOf(SpsConnectionError);
    expect(err.message).toBe(
      `GET /api/authentication: ${new URL(endpoint).host} closed the connection without answering (UND_ERR_SOCKET): if the endpoint is http://, the appliance speaks HTTPS there: use https://`,
    );
    expect(err.message).not.toContain(PASSWORD);
  });

  it('when http:// meets a port that answers in TLS, it says so without a doubt', async () => {
    // A TLS server that refuses a plain-HTTP request with an alert record (as some do).
    const server: Server = createServer((socket) =>
      socket.once('data', () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]))),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const err = await loginError(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      expect(err).toBeInstanceOf(SpsConnectionError);
      expect(err.message).toBe(
        'GET /api/authentication: the appliance answered in TLS: it speaks HTTPS on that port: use https:// in the endpoint',
      );
    } finally {
      server.close();
    }
  });

  it('when https:// meets a plain-HTTP port, it says the port answered without TLS', async () => {
    const err = await loginError(http.appliances[0]!.endpoint.replace(/^http:/, 'https:'));
    expect(err).toBeInstanceOf(SpsTlsError);
    expect(err.message).toMatch(
      /^GET \/api\/authentication: the endpoint answered without TLS \(ERR_SSL_\w+\): that port speaks plain HTTP, or it is not the appliance's HTTPS port$/,
    );
  });
});

describe('Secrets Manager messages (secretError)', () => {
  // Every variable the SDK would find a region or credentials in; restored after each test.
  const AWS_VARS = [
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_PROFILE',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_CONFIG_FILE',
    'AWS_SHARED_CREDENTIALS_FILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_EC2_METADATA_DISABLED',
    'AWS_ENDPOINT_URL',
  ];
  let saved: Record<string, string | undefined>;
  beforeEach(() => {
    saved = Object.fromEntries(AWS_VARS.map((name) => [name, process.env[name]]));
    for (const name of AWS_VARS) delete process.env[name];
    // No files, no instance metadata, and an endpoint on loopback should anything still be sent.
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  const readError = async (client: SecretsManagerClient) =>
    new SecretsManagerStore(client).get('sps/sps-sim-1').then(
      () => {
        throw new Error('expected the read to fail');
      },
      (err: Error) => err,
    );

  it('when no region is set, it says so instead of "Error"', async () => {
    const port = await closedPort();
    const err = await readError(new SecretsManagerClient({ endpoint: `http://127.0.0.1:${port}` }));
    expect({ name: err.name, message: err.message }).toEqual({
      name: 'Secrets.Unavailable',
      message: 'Cannot read secret "sps/sps-sim-1": no AWS region set (AWS_REGION)',
    });
  });

  it('when no credentials are found, it says so', async () => {
    const port = await closedPort();
    const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` });
    const err = await readError(client);
    expect({ name: err.name, message: err.message }).toEqual({
      name: 'Secrets.Unavailable',
      message: 'Cannot read secret "sps/sps-sim-1": no AWS credentials found',
    });
  });
});

describe('jsonSyntaxError: where a JSON file goes wrong, never what it holds', () => {
  it.each([
    ['a trailing comma', '{\n  "appliance": "sps-1",\n}', 3, 1, 'expected a property name in double quotes'],
    ['a missing comma', '{\n  "a": "x"\n  "b": 2\n}', 3, 3, "expected ',' between values"],
    ['a bare word', '{"password": hunter2}', 1, 14, 'an unexpected character'],
    ['single quotes', "{'a': 1}", 1, 2, 'strings and property names take double quotes'],
    ['a comment', '// settings\n{}', 1, 1, 'comments are not JSON'],
    ['an unclosed object', '{"a": 1', 1, 8, "the text ends early (expected '}')"],
    ['an empty file', '', 1, 1, 'the text ends early (expected a value'],
    ['a line break in a string', '{"a": "x\ny"}', 1, 7, 'a string is not closed on its line'],
    ['an array with a trailing comma', '[1, 2,]', 1, 7, 'expected a value'],
    ['two values', '{} {}', 1, 4, 'unexpected text after the JSON value'],
  ])('%s', (_case, text, line, column, problem) => {
    expect(() => JSON.parse(text)).toThrow();
    const found = jsonSyntaxError(text);
    expect(found).toMatchObject({ line, column });
    expect(found!.problem).toContain(problem);
    expect(found!.problem).not.toContain('hunter2');
  });

  it.each(['{}', '[]', '{"a": [1, -2.5e3, true, false, null, "\\u00e9\\n"]}', ' "x" ', '0'])(
    'finds nothing wrong in valid JSON %j',
    (text) => {
      expect(() => JSON.parse(text)).not.toThrow();
      expect(jsonSyntaxError(text)).toBeUndefined();
    },
  );
});

describe('storedBundleFooter: where a bundle went and how to check it', () => {
  const out = { bucket: 'archive', key: "b/sps-1/2026/x's.zip", bytes: 42, sha256: 'ab'.repeat(32) };

  it('in the embedded S3 server: the file on disk and sha256sum', () => {
    expect(storedBundleFooter(out, { embeddedDir: '.sps-workflows/s3' })).toEqual([
      `Stored s3://archive/b/sps-1/2026/x's.zip (42 bytes, sha256 ${'ab'.repeat(32)}).`,
      'The embedded S3 server keeps it on disk: verify it with',
      `  sha256sum '.sps-workflows/s3/archive/b/sps-1/2026/x'\\''s.zip._S3rver_object'`,
    ]);
  });

  it('at another S3 endpoint: the aws command that streams it through sha256sum', () => {
    expect(storedBundleFooter(out, { endpoint: 'http://127.0.0.1:9000' })).toEqual([
      `Stored s3://archive/b/sps-1/2026/x's.zip (42 bytes, sha256 ${'ab'.repeat(32)}).`,
      'Verify it with (the sha256 must match):',
      `  aws --endpoint-url 'http://127.0.0.1:9000' s3 cp 's3://archive/b/sps-1/2026/x'\\''s.zip' - | sha256sum`,
    ]);
  });
});
