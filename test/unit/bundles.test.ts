import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { OPERATION_SPECS, type OperationName } from '../../lambdas/operations/catalog';
import { BUNDLE_TARGET, RUNTIME_SDK_CLIENTS } from '../../infra/functions';

/*
 * A function that never calls an appliance bundles neither the SPS client nor undici (about 290 KB
 * of its cold start): only `spsOperation` brings them. Sizes themselves are measured by the bench.
 */

const nonSps = (Object.entries(OPERATION_SPECS) as Array<[OperationName, { sps: boolean }]>)
  .filter(([, spec]) => !spec.sps)
  .map(([name]) => name);

it.each(nonSps)('%s bundles no SPS client', (name) => {
  const result = buildSync({
    entryPoints: [join(__dirname, '..', '..', 'lambdas', 'handlers', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    target: BUNDLE_TARGET,
    format: 'cjs',
    write: false,
    metafile: true,
    logLevel: 'silent',
    external: [...RUNTIME_SDK_CLIENTS],
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((i) => i.includes('node_modules/undici/') || i.includes('lambdas/shared/sps/client'))).toEqual(
    [],
  );
});
