import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { UploadPartCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../../lambdas/shared/archive';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

describe('s3Client', () => {
  let server: Server;
  let endpoint: string;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders; bytes: number }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, bytes });
        res.writeHead(200, { etag: '"p1"' });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('gives up on a connection or a request that stalls rather than waiting for the function timeout', async () => {
    const client = s3Client(endpoint, { region: 'us-east-1', credentials });
    await client.send(new UploadPartCommand({ Bucket: 'archive', Key: 'k', UploadId: 'u', PartNumber: 1, Body: 'x' }));
    seen.splice(0);
    const handler = client.config.requestHandler as { httpHandlerConfigs(): Record<string, unknown> };
    expect(handler.httpHandlerConfigs()).toMatchObject({ connectionTimeout: 10_000, requestTimeout: 120_000 });
  });

  it('sends parts to an S3-compatible endpoint path-style, as plain bytes, without waiting for 100-continue', async () => {
    const client = s3Client(endpoint, { region: 'us-east-1', credentials });
    const Body = Buffer.alloc(3 * 1024 * 1024, 1);
    await client.send(new UploadPartCommand({ Bucket: 'archive', Key: 'a/b.zip', UploadId: 'u', PartNumber: 1, Body }));

    const [part] = seen.splice(0);
    expect(part!.url).toBe('/archive/a/b.zip?partNumber=1&uploadId=u&x-id=UploadPart');
    expect(part!.bytes).toBe(Body.length);
    expect(part!.headers.expect).toBeUndefined();
    // Loopback protects the payload: headers are signed, the body is not hashed twice.
    expect(part!.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    // No aws-chunked framing or checksum trailer that such a server could store as data.
    expect(part!.headers['content-encoding']).toBeUndefined();
    expect(Object.keys(part!.headers).filter((h) => h.startsWith('x-amz-checksum') || h === 'x-amz-trailer')).toEqual(
      [],
    );
  });

  it('on AWS: a part carries a CRC32, its payload is not hashed again under TLS, and it does not wait for 100-continue', async () => {
    let sent: { protocol: string; headers: Record<string, string> } | undefined;
    const client = s3Client(undefined, {
      region: 'eu-west-1',
      credentials,
      // Stands in for the network: captures the request as it would leave and answers 200.
      requestHandler: {
        handle: async (request: { protocol: string; headers: Record<string, string> }) => {
          sent = request;
          return { response: { statusCode: 200, headers: { etag: '"p1"' }, body: Readable.from([]) } };
        },
      },
    });
    const Body = Buffer.alloc(3 * 1024 * 1024, 1);
    await client.send(
      new UploadPartCommand({
        Bucket: 'archive',
        Key: 'k',
        UploadId: 'u',
        PartNumber: 1,
        Body,
        ChecksumAlgorithm: 'CRC32',
      }),
    );

    expect(sent!.protocol).toBe('https:');
    expect(sent!.headers.Expect ?? sent!.headers.expect).toBeUndefined();
    expect(sent!.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
    expect(sent!.headers['x-amz-checksum-crc32']).toBe(
      Buffer.from(crc32(Body).toString(16).padStart(8, '0'), 'hex').toString('base64'),
    );
  });

  it('signs the payload where neither TLS nor loopback protects it', () => {
    const names = (endpointUrl?: string) =>
      s3Client(endpointUrl, { region: 'us-east-1', credentials }).middlewareStack.identify().join(' ');
    expect(names('http://s3.example.test:9000')).not.toContain('spsUnsignedPayload');
    expect(names('https://s3.example.test')).toContain('spsUnsignedPayload');
    expect(names(undefined)).toContain('spsUnsignedPayload');
  });
});
