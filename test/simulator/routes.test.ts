import { Appliance } from '../../local/simulator/appliance';

/*
 * The route table's edges, asked of one appliance directly (no server): what a request that no
 * endpoint serves is answered, and that an unknown item is a 404 whatever the method.
 */

const NOW = Date.UTC(2026, 0, 1);
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function loggedIn() {
  const appliance = new Appliance({ name: 'sps', password: 'secret' }, NOW);
  const login = appliance.handle(
    {
      method: 'GET',
      path: '/api/authentication',
      query: new URLSearchParams(),
      headers: { authorization: basic('admin', 'secret') },
      body: Buffer.alloc(0),
    },
    NOW,
  );
  if (login.kind !== 'json' || !login.headers?.['set-cookie']) throw new Error('login failed');
  const cookie = login.headers['set-cookie'].split(';')[0]!;
  const ask = (method: string, path: string) => {
    const answer = appliance.handle(
      { method, path, query: new URLSearchParams(), headers: { cookie, 'content-length': '0' }, body: Buffer.alloc(0) },
      NOW,
    );
    if (answer.kind !== 'json') return { status: answer.kind };
    const body = answer.body as { error?: { type: string; details?: unknown } };
    return { status: answer.status, type: body.error?.type, details: body.error?.details };
  };
  return { appliance, ask };
}

describe('Simulator routes', () => {
  it.each([
    // Under a module's prefix (a string prefix, as on the appliance): 405.
    ['GET', '/api/firmware/test', 405, 'MethodNotAllowed'],
    ['DELETE', '/api/firmware/slots', 405, 'MethodNotAllowed'],
    ['POST', '/api/firmware/slots/1', 405, 'MethodNotAllowed'],
    ['GET', '/api/firmware/slots/1/x', 405, 'MethodNotAllowed'],
    ['GET', '/api/firmwarex', 405, 'MethodNotAllowed'],
    ['PATCH', '/api/integrated_products', 405, 'MethodNotAllowed'],
    ['GET', '/api/troubleshooting', 405, 'MethodNotAllowed'],
    // Elsewhere, the public endpoints' other methods among them: 404.
    ['GET', '/api/other', 404, 'NotFound'],
    ['POST', '/api/info', 404, 'NotFound'],
    ['DELETE', '/api/authentication', 404, 'NotFound'],
  ])('when no route serves %s %s, it answers %i %s', (method, path, status, type) => {
    const { ask } = loggedIn();
    expect(ask(method, path)).toMatchObject({ status, type, details: { path } });
  });

  it.each([
    ['PUT', '/api/firmware/slots/9', { mount_point: '/firmware/slots', resource: '9' }],
    ['POST', '/api/firmware/fetch/nope', { mount_point: '/firmware/fetch', resource: 'nope' }],
    [
      'DELETE',
      '/api/troubleshooting/support-bundle/nope/download',
      { mount_point: '/troubleshooting/support-bundle', resource: 'nope/download' },
    ],
  ])('when %s %s names an unknown item, it answers ResourceNotFound whatever the method', (method, path, details) => {
    const { ask } = loggedIn();
    expect(ask(method, path)).toEqual({ status: 404, type: 'ResourceNotFound', details });
  });

  it('when a request has no session, it answers 401 before looking for a route', () => {
    const appliance = new Appliance({ name: 'sps' }, NOW);
    const answer = appliance.handle(
      { method: 'GET', path: '/api/other', query: new URLSearchParams(), headers: {}, body: Buffer.alloc(0) },
      NOW,
    );
    expect(answer).toMatchObject({ status: 401, body: { error: { type: 'Unauthenticated' } } });
  });
});
