import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext } from './config';
import { addGuardValidation } from './guard';
import { SpsWorkflowsStack } from './stack';

const app = new App();
const config = configFromContext((key) => app.node.tryGetContext(key));
new SpsWorkflowsStack(app, 'SpsWorkflows', {
  config,
  // With a VPC lookup the account and region must be known; otherwise the stack stays env-agnostic.
  env: config.network
    ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
    : undefined,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
// A second, independent checker: the Control Tower proactive controls, through cfn-guard.
addGuardValidation(app);
