import { Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { addGuardValidation, GUARD_PLUGIN } from '../../infra/guard';
import { removeAssemblies, testApp, validate } from './synth';

/*
 * cfn-guard with the Control Tower proactive controls, the second policy checker next to cdk-nag
 * (matrix.test.ts synthesizes every configuration with both, and checks that every row of
 * infra/guard.ts is in use): a resource nothing acknowledges fails the synth.
 */

afterAll(removeAssemblies);

describe('cfn-guard (Control Tower proactive controls)', () => {
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
