import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const BLOCK = Buffer.alloc(1024 * 1024);
for (let i = 0; i < BLOCK.length; i++) BLOCK[i] = (i * 31 + 7) & 0xff;

/** Serves `GET /<bytes>` as a zip-typed stream of that many bytes, honouring backpressure. */
export async function startSource(): Promise<{ url(bytes: number): string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const total = Number((req.url ?? '/0').slice(1));
    res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(total) });
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        const chunk = total - sent >= BLOCK.length ? BLOCK : BLOCK.subarray(0, total - sent);
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (bytes) => `http://127.0.0.1:${port}/${bytes}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
