import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { addGuardValidation, GUARD_ACKNOWLEDGEMENTS, GUARD_PLUGIN } from '../../infra/guard';
import { CONFIGURATIONS, ENDPOINTS, NETWORK, removeAssemblies, synthesize, type Finding } from './synth';

/*
 * Every configuration the README offers synthesizes with both policy checkers (cdk-nag's
 * AwsSolutions and cfn-guard's Control Tower rules) and no unacknowledged finding, in an
 * environment-agnostic stack and in a concrete account and region (acknowledgements must not
 * depend on how CDK renders the environment), within CloudFormation's limits.
 */

afterAll(removeAssemblies);

const bothCheckers = (app: App) => {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  addGuardValidation(app);
};

/** What each configuration's synth acknowledged, by name (filled as the configurations run). */
const acknowledged = new Map<string, Finding[]>();
const synthesizeChecked = (name: string, config: object, concrete: boolean) => {
  const result = synthesize(config, concrete, bothCheckers);
  acknowledged.set(name, result.acknowledged);
  return result;
};

describe('deployment configurations', () => {
  it.each(CONFIGURATIONS)(
    '%s synthesizes with no cdk-nag or cfn-guard finding, within CloudFormation limits',
    (name, config, concrete) => {
      const { findings, template } = synthesizeChecked(name, config, concrete);
      expect(findings).toEqual([]);
      const json = template.toJSON() as { Resources: object };
      expect(JSON.stringify(json).length).toBeLessThan(1_000_000);
      expect(Object.keys(json.Resources).length).toBeLessThan(500);
    },
  );
});

it('uses every cfn-guard acknowledgement in some configuration: no row of the table is dead', () => {
  for (const [name, config, concrete] of CONFIGURATIONS) {
    if (!acknowledged.has(name)) synthesizeChecked(name, config, concrete);
  }
  const used = new Set([...acknowledged.values()].flat().map(({ id, reason }) => `${id}\n${reason}`));
  expect(GUARD_ACKNOWLEDGEMENTS.filter(({ rule, reason }) => !used.has(`${GUARD_PLUGIN}::${rule}\n${reason}`))).toEqual(
    [],
  );
}, 120_000);

describe('VPC endpoints', () => {
  const endpoints = (config: object) =>
    Object.values(synthesize(config, true, () => {}).template.findResources('AWS::EC2::VPCEndpoint'))
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
