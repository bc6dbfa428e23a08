import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal S3-compatible endpoint that accepts PutObject, multipart uploads, HeadObject and
 * CopyObject and throws the data away: a sink much faster than s3rver, so the bench measures the
 * archiver and not the storage.
 */
export async function startSink(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const sizes = new Map<string, number>();
  const uploads = new Map<string, number>();
  let nextId = 0;
  const drain = (req: IncomingMessage) =>
    new Promise<number>((resolve, reject) => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => resolve(n));
      req.on('error', reject);
    });
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://sink');
    const key = url.pathname;
    const q = url.searchParams;
    const xml = (body: string) => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
    };
    if (req.method === 'POST' && q.has('uploads')) {
      const id = `u${++nextId}`;
      uploads.set(id, 0);
      await drain(req);
      return xml(`<InitiateMultipartUploadResult><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    }
    if (req.method === 'PUT' && q.has('uploadId')) {
      const n = await drain(req);
      uploads.set(q.get('uploadId')!, (uploads.get(q.get('uploadId')!) ?? 0) + n);
      res.writeHead(200, { etag: `"p${q.get('partNumber')}"` });
      return res.end();
    }
    if (req.method === 'POST' && q.has('uploadId')) {
      await drain(req);
      sizes.set(key, uploads.get(q.get('uploadId')!) ?? 0);
      uploads.delete(q.get('uploadId')!);
      return xml(`<CompleteMultipartUploadResult><Key>${key}</Key><ETag>"done"</ETag></CompleteMultipartUploadResult>`);
    }
    if (req.method === 'DELETE') {
      uploads.delete(q.get('uploadId') ?? '');
      res.writeHead(204);
      return res.end();
    }
    if (req.method === 'PUT' && req.headers['x-amz-copy-source']) {
      await drain(req);
      return xml('<CopyObjectResult><ETag>"copy"</ETag></CopyObjectResult>');
    }
    if (req.method === 'PUT') {
      sizes.set(key, await drain(req));
      res.writeHead(200, { etag: '"put"' });
      return res.end();
    }
    if (req.method === 'HEAD') {
      res.writeHead(sizes.has(key) ? 200 : 404, { 'content-length': String(sizes.get(key) ?? 0) });
      return res.end();
    }
    res.writeHead(400);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
