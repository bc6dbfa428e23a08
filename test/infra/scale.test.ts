import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../infra/config';
import { SpsWorkflowsStack } from '../../infra/stack';
import { removeAssemblies, testApp, validate } from './synth';

/*
 * No resource per appliance: the registry is the credentials secrets, the nightly archival one
 * schedule and the release one rule. A config that names 1,000 appliances (to narrow the nightly
 * archival) synthesizes the same resources, clean under cdk-nag, within CloudFormation's limits.
 */

afterAll(removeAssemblies);

function synthesize(appliances: number) {
  const app = testApp();
  const stack = new SpsWorkflowsStack(app, 'SpsWorkflows', {
    config: parseConfig({ appliances: Array.from({ length: appliances }, (_, i) => `sps-${i + 1}`) }),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(validate(app).findings).toEqual([]);
  return Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: any }> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const types = (t: ReturnType<typeof synthesize>) =>
  Object.values(t.Resources)
    .map((r) => r.Type)
    .sort();

describe('scale', () => {
  const one = synthesize(1);

  it.each([20, 200, 1000])('%i appliances: the same resources as one, within CloudFormation limits', (n) => {
    const template = synthesize(n);
    expect(types(template)).toEqual(types(one));
    expect(JSON.stringify(template).length).toBeLessThan(1_000_000);
    expect(Object.keys(template.Resources).length).toBeLessThan(500);
    // SQS allows 20 statements in a queue policy: one per target that may dead-letter into it.
    for (const policy of Object.values(template.Resources).filter((r) => r.Type === 'AWS::SQS::QueuePolicy'))
      expect(policy.Properties.PolicyDocument.Statement.length).toBeLessThanOrEqual(20);
  });

  it('has one release rule and one schedule', () => {
    const count = (type: string) => types(one).filter((t) => t === type).length;
    // The release rule and the approval requests' rule.
    expect([count('AWS::Events::Rule'), count('AWS::Scheduler::Schedule')]).toEqual([2, 1]);
  });
});
