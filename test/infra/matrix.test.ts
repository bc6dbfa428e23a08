import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../infra/config';
import { SpsWorkflowsStack } from '../../infra/stack';
import cdkJson from '../../cdk.json';

/*
 * Every configuration the README offers synthesizes with cdk-nag and no unacknowledged finding,
 * in an environment-agnostic stack and in a concrete account and region (acknowledgements must
 * not depend on how CDK renders the environment), within CloudFormation's limits.
 */

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const VPC_ID = 'vpc-0123456789abcdef0';
const NETWORK = {
  vpcId: VPC_ID,
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupIds: ['sg-0123456789abcdef0'],
};
const ENDPOINTS = { routeTableIds: ['rtb-0123456789abcdef0'] };
const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function synthesize(config: object, concrete: boolean) {
  outdirs.push(mkdtempSync(join(tmpdir(), 'cdk.out-')));
  const app = new App({
    outdir: outdirs.at(-1),
    context: {
      ...cdkJson.context,
      'aws:cdk:bundling-stacks': [],
      // The VPC lookup's cached answer (a documentation range: it is never used).
      [`vpc-provider:account=${ACCOUNT}:filter.vpc-id=${VPC_ID}:region=${REGION}:returnAsymmetricSubnets=true`]: {
        vpcId: VPC_ID,
        vpcCidrBlock: '198.51.100.0/24',
        availabilityZones: [],
        subnetGroups: [],
      },
    },
  });
  const stack = new SpsWorkflowsStack(app, 'SpsWorkflows', {
    config: parseConfig({ appliances: ['sps-prod-1', 'sps-prod-2'], ...config }),
    env: concrete ? { account: ACCOUNT, region: REGION } : undefined,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let findings = '';
  try {
    app.synth();
  } catch (err) {
    findings = (err as Error).message
      .split('\n')
      .filter((line) => line.includes('Acknowledge with'))
      .join('\n');
  }
  return {
    findings,
    template: Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: any }> }, // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

describe('deployment configurations', () => {
  it.each([
    ['base', {}, false],
    ['base, concrete account and region', {}, true],
    ['customer-managed key', { kmsKeyArn: KMS_KEY }, false],
    ['customer-managed key, concrete account and region', { kmsKeyArn: KMS_KEY }, true],
    ['network (needs a concrete account and region)', { network: NETWORK }, true],
    ['network and customer-managed key', { network: NETWORK, kmsKeyArn: KMS_KEY }, true],
    ['network with VPC endpoints', { network: { ...NETWORK, createEndpoints: ENDPOINTS } }, true],
    [
      'network with VPC endpoints and customer-managed key',
      { network: { ...NETWORK, createEndpoints: ENDPOINTS }, kmsKeyArn: KMS_KEY },
      true,
    ],
  ])('%s synthesizes with no cdk-nag finding, within CloudFormation limits', (_name, config, concrete) => {
    const { findings, template } = synthesize(config, concrete);
    expect(findings).toBe('');
    expect(JSON.stringify(template).length).toBeLessThan(1_000_000);
    expect(Object.keys(template.Resources).length).toBeLessThan(500);
  });
});

describe('VPC endpoints', () => {
  const endpoints = (config: object) =>
    Object.values(synthesize(config, true).template.Resources)
      .filter((r) => r.Type === 'AWS::EC2::VPCEndpoint')
      .map((r) => {
        const name = JSON.stringify(r.Properties.ServiceName);
        return `${r.Properties.VpcEndpointType ?? 'Interface'} ${/secretsmanager|states|s3|dynamodb/.exec(name)?.[0]}`;
      })
      .sort();

  it('are none unless asked for: the subnets then need a NAT', () => {
    expect(endpoints({ network: NETWORK })).toEqual([]);
  });

  it('with createEndpoints, reach exactly what the functions call: Secrets Manager, Step Functions, S3, DynamoDB', () => {
    expect(endpoints({ network: { ...NETWORK, createEndpoints: ENDPOINTS } })).toEqual([
      'Gateway dynamodb',
      'Gateway s3',
      'Interface secretsmanager',
      'Interface states',
    ]);
  });
});
