import fc from 'fast-check';
import { MockAgent } from 'undici';
import { SpsClient } from '../../lambdas/shared/sps/client';
import { MemorySessionStore } from '../../lambdas/shared/sps/session';

/*
 * Property: whatever an appliance answers (any status, any JSON or text body), every client call
 * either resolves or fails with a typed `Sps.*` error, and no error carries a secret.
 */

const PASSWORD = 'fuzz-Pässword-0xSECRET';
const SESSION = 'deadbeef'.repeat(5);
const NEW_SESSION = 'cafebabe'.repeat(5);

const calls: Array<[string, string, (c: SpsClient) => Promise<unknown>]> = [
  ['GET', '/api/info', (c) => c.getInfo()],
  ['GET', '/api/firmware/slots', (c) => c.listFirmwareSlots()],
  ['GET', '/api/firmware/fetch/k', (c) => c.getFirmwareFetch('k')],
  ['POST', '/api/firmware/fetch', (c) => c.startFirmwareFetch('https://x/sps.iso', 'a'.repeat(64))],
  ['POST', '/api/firmware/test', (c) => c.testFirmware('1')],
  ['POST', '/api/firmware/upgrade', (c) => c.upgradeFirmware('1', 'm')],
  ['POST', '/api/troubleshooting/support-bundle', (c) => c.createSupportBundle()],
  ['GET', '/api/troubleshooting/support-bundle/k', (c) => c.getSupportBundle('k')],
  ['DELETE', '/api/troubleshooting/support-bundle/k', (c) => c.deleteSupportBundle('k')],
  ['GET', '/api/troubleshooting/support-bundle/k/download', (c) => c.downloadSupportBundle('k')],
];

const body = fc.oneof(
  fc.json(),
  fc.string(),
  fc.constant('<html><body><h1>502 Bad Gateway</h1></body></html>'),
  fc
    .record({
      error: fc.record({ type: fc.string(), message: fc.string(), details: fc.jsonValue() }, { requiredKeys: [] }),
    })
    .map((o) => JSON.stringify(o)),
  fc
    .record({ key: fc.oneof(fc.string(), fc.integer()), body: fc.dictionary(fc.string(), fc.jsonValue()) })
    .map((o) => JSON.stringify(o)),
);

it('maps any answer to a result or a typed, secret-free error', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...calls),
      fc.integer({ min: 200, max: 599 }),
      body,
      fc.constantFrom('application/json', 'text/html', 'application/octet-stream'),
      async ([method, path, call], status, text, contentType) => {
        const agent = new MockAgent();
        agent.disableNetConnect();
        const pool = agent.get('https://sps.test');
        pool
          .intercept({ method, path })
          .reply(status, text, { headers: { 'content-type': contentType } })
          .persist();
        pool
          .intercept({ method: 'GET', path: '/api/authentication' })
          .reply(200, '{}', { headers: { 'set-cookie': `session_id=${NEW_SESSION}; Path=/` } })
          .persist();
        const client = new SpsClient({
          endpoint: 'https://sps.test',
          credentials: { username: 'admin', password: PASSWORD },
          sessions: new MemorySessionStore(SESSION),
          dispatcher: agent,
          retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
        });
        try {
          const result = await call(client);
          if (result && typeof result === 'object' && 'body' in result)
            (result as { body: NodeJS.ReadableStream & { destroy(): void } }).body.destroy();
          expect(status).toBeLessThan(300);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          const e = err as Error;
          expect(e.name).toMatch(/^Sps\.[A-Za-z]+$/);
          const text = `${e.name} ${e.message} ${JSON.stringify(e)}`;
          for (const secret of [PASSWORD, SESSION, NEW_SESSION, Buffer.from(`admin:${PASSWORD}`).toString('base64')]) {
            expect(text).not.toContain(secret);
          }
        } finally {
          await agent.close();
        }
      },
    ),
    { numRuns: 400, seed: 42 },
  );
});
