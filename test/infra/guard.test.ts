import { Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { addGuardValidation, GUARD_ACKNOWLEDGEMENTS, GUARD_PLUGIN } from '../../infra/guard';
import { CONFIGURATIONS, removeAssemblies, synthesize, testApp, validate, type Finding } from './synth';

/*
 * cfn-guard with the Control Tower proactive controls, the second policy checker next to cdk-nag:
 * every configuration synthesizes with each of its findings fixed or acknowledged in
 * infra/guard.ts, and a resource nothing acknowledges fails the synth.
 */

afterAll(removeAssemblies);

/** What each configuration's synth acknowledged, by name (filled as the configurations run). */
const acknowledged = new Map<string, Finding[]>();
const synthesizeWithGuard = (name: string, config: object, concrete: boolean) => {
  const result = synthesize(config, concrete, addGuardValidation);
  acknowledged.set(name, result.acknowledged);
  return result;
};

describe('cfn-guard (Control Tower proactive controls)', () => {
  it.each(CONFIGURATIONS)('%s synthesizes with no unacknowledged finding', (name, config, concrete) => {
    const { findings } = synthesizeWithGuard(name, config, concrete);
    expect(findings).toEqual([]);
  });

  it('acknowledges only what some configuration finds: no row of the table is dead', () => {
    for (const [name, config, concrete] of CONFIGURATIONS) {
      if (!acknowledged.has(name)) synthesizeWithGuard(name, config, concrete);
    }
    const used = new Set([...acknowledged.values()].flat().map(({ id, reason }) => `${id}\n${reason}`));
    const unused = GUARD_ACKNOWLEDGEMENTS.filter(
      ({ rule, reason }) => !used.has(`${GUARD_PLUGIN}::${rule}\n${reason}`),
    );
    expect(unused).toEqual([]);
  }, 120_000);

  it('when a resource breaks a rule no row accepts, fails the synth, naming the rule and the resource', () => {
    const app = testApp();
    const scratch = new Stack(app, 'Scratch');
    // A bucket nobody's logs go to, without access logs or versioning; a queue that is no dead-letter queue and has none.
    new Bucket(scratch, 'Unlogged');
    new Queue(scratch, 'Jobs');
    addGuardValidation(app);

    expect(() => app.synth()).toThrow(`Acknowledge with '${GUARD_PLUGIN}::s3_bucket_logging_enabled_check'`);
    expect(validate(app).findings).toEqual(
      expect.arrayContaining([
        { id: `${GUARD_PLUGIN}::s3_bucket_logging_enabled_check`, path: 'Scratch/Unlogged/Resource' },
        { id: `${GUARD_PLUGIN}::s3_bucket_versioning_enabled_check`, path: 'Scratch/Unlogged/Resource' },
        { id: `${GUARD_PLUGIN}::sqs_dlq_check`, path: 'Scratch/Jobs/Resource' },
      ]),
    );
  });
});
