import { runPostcheck } from '../../lambdas/operations/preflight';
import { startHarness, type Harness } from '../helpers/workflow';

/* The postcheck against the simulator: what the preflight saw, compared with the appliance now. */

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const intact = { 'aa/AAPluginExample': true };

async function postcheck(appliance: object, snapshot: object) {
  h = await startHarness([{ name: 'sps-sim-1', ...appliance }]);
  const ref = h.ref();
  return runPostcheck.run({ appliance: ref, snapshot }, h.deps);
}

describe('run-postcheck', () => {
  it('passes when roles, activated products and intact plugins are as the preflight saw them', async () => {
    await expect(
      postcheck(
        { integratedProducts: [{ name: 'Starling', link: null, activated: true }] },
        { roles: [], activatedProducts: ['Starling'], pluginIntegrity: intact },
      ),
    ).resolves.toEqual({ passed: true });
  });

  it.each([
    ['other cluster roles', {}, { roles: ['search-local'] }, 'cluster roles were search-local, now none'],
    ['a product no longer activated', {}, { activatedProducts: ['Starling'] }, 'no longer activated: Starling'],
    [
      'a plugin that fails its integrity check now',
      { scenario: 'plugin-integrity-failed' },
      { pluginIntegrity: { 'aa/AAPluginExample': true } },
      'fails its integrity check',
    ],
    ['a plugin that is gone', { plugins: [] }, { pluginIntegrity: intact }, 'aa/AAPluginExample is gone'],
  ])('fails with Sps.PostcheckFailed on %s, saying what changed', async (_case, appliance, changed, message) => {
    const snapshot = { roles: [], activatedProducts: null, pluginIntegrity: null, ...changed };
    await expect(postcheck(appliance, snapshot)).rejects.toMatchObject({
      name: 'Sps.PostcheckFailed',
      message: expect.stringContaining(message),
    });
  });

  it('compares nothing it could not read before (null in the snapshot)', async () => {
    await expect(
      postcheck({ scenario: 'no-config-privilege' }, { roles: [], activatedProducts: null, pluginIntegrity: null }),
    ).resolves.toEqual({ passed: true });
  });
});
