import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../infra/config';
import { SpsWorkflowsStack } from '../../infra/stack';
import cdkJson from '../../cdk.json';

/*
 * The deployment configurations the README offers, and a synth of the stack in one of them with
 * the policy checkers a test adds, without bundling.
 */

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const VPC_ID = 'vpc-0123456789abcdef0';
export const NETWORK = {
  vpcId: VPC_ID,
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  securityGroupIds: ['sg-0123456789abcdef0'],
};
export const ENDPOINTS = { routeTableIds: ['rtb-0123456789abcdef0'] };
export const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-3333-4444-555555555555`;

/**
 * Every configuration, in an environment-agnostic stack and in a concrete account and region
 * (acknowledgements must not depend on how CDK renders the environment): [name, config, concrete].
 */
export const CONFIGURATIONS: Array<[string, object, boolean]> = [
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
];

/** A finding as the validation report lists it: `<plugin>::<rule>` and the construct. */
export interface Finding {
  id: string;
  path: string;
  /** Set when it was acknowledged. */
  reason?: string;
}

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }>;
    suppressedViolations?: Array<{
      acknowledgedId: string;
      reason?: string;
      violatingConstructs: Array<{ constructPath: string }>;
    }>;
  }>;
}

const outdirs: string[] = [];

/** Removes the cloud assemblies of this suite (`afterAll(removeAssemblies)`). */
export function removeAssemblies(): void {
  outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
}

/** An app with the project's feature flags that bundles nothing, its assembly in a folder of its own. */
export function testApp(): App {
  outdirs.push(mkdtempSync(join(tmpdir(), 'cdk.out-')));
  return new App({
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
}

/**
 * Synthesizes `app` and reads its validation report: the findings left, and the acknowledged ones.
 * An unacknowledged finding makes `synth` throw; the report is written either way.
 */
export function validate(app: App): { findings: Finding[]; acknowledged: Finding[] } {
  try {
    app.synth();
  } catch (err) {
    if (!existsSync(join(app.outdir, 'validation-report.json'))) throw err;
  }
  const reportFile = join(app.outdir, 'validation-report.json');
  // No plugin found anything (or there was no plugin): no report.
  if (!existsSync(reportFile)) return { findings: [], acknowledged: [] };
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
  return {
    findings: report.pluginReports.flatMap((p) =>
      p.violations.flatMap((v) =>
        v.violatingConstructs.map((c) => ({ id: `${p.pluginName}::${v.ruleName}`, path: c.constructPath })),
      ),
    ),
    acknowledged: report.pluginReports.flatMap((p) =>
      (p.suppressedViolations ?? []).flatMap((v) =>
        v.violatingConstructs.map((c) => ({ id: v.acknowledgedId, path: c.constructPath, reason: v.reason })),
      ),
    ),
  };
}

/** The stack in one configuration (on top of two appliances), with the checkers `addPlugins` registers. */
export function synthesize(config: object, concrete: boolean, addPlugins: (app: App) => void) {
  const app = testApp();
  const stack = new SpsWorkflowsStack(app, 'SpsWorkflows', {
    config: parseConfig({ appliances: ['sps-prod-1', 'sps-prod-2'], ...config }),
    env: concrete ? { account: ACCOUNT, region: REGION } : undefined,
  });
  addPlugins(app);
  return { ...validate(app), template: Template.fromStack(stack) };
}
