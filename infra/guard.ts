import {
  AspectPriority,
  Aspects,
  CfnResource,
  Stack,
  Validations,
  type IAspect,
  type IPolicyValidationPlugin,
  type Stage,
} from 'aws-cdk-lib';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnLogGroup } from 'aws-cdk-lib/aws-logs';
import { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/**
 * The plugin's name: the namespace of its findings' ids, as the report's
 * `Acknowledge with 'cdk-validator-cfnguard::<rule>'` shows them.
 */
export const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** One finding of the Control Tower rules that this stack accepts, on which resources, and why. */
export interface GuardAcknowledgement {
  /** The guard rule's name, as its finding's id names it (the Control Tower id is in the comment). */
  rule: string;
  /** The CloudFormation type of the resources it applies to. */
  type: string;
  /** Which of those resources; all of them when omitted. */
  where?: (resource: CfnResource) => boolean;
  reason: string;
}

/**
 * cfn-guard with the Control Tower proactive controls bundled in the package (offline, no AWS
 * account). Every rule is on: a finding that does not apply is acknowledged below, per resource.
 */
export function guardValidator(): IPolicyValidationPlugin {
  // cfn-guard's JSON answer is about 150 KB per template, and the plugin reads it through a pipe
  // that fails above the 1 MB Node default: leave room for a growing stack.
  const guard = new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 });
  return {
    name: guard.name,
    version: guard.version,
    ruleIds: guard.ruleIds,
    validate(context) {
      const report = guard.validate(context);
      // The plugin gives its findings no severity. Once one finding of a report is acknowledged,
      // CDK decides the synth's outcome by severity alone: without 'error', the others would only
      // be printed and the synth would pass.
      return { ...report, violations: report.violations.map((v) => ({ ...v, severity: v.severity ?? 'error' })) };
    },
  };
}

/** Adds the guard plugin to the app and acknowledges, from the table below, what it may find. */
export function addGuardValidation(app: Stage): void {
  Validations.of(app).addPlugins(guardValidator());
  Aspects.of(app).add(new GuardAcknowledgements(), { priority: AspectPriority.READONLY });
}

/** The stack's L1 resources of one class (`CfnBucket`, ...). */
const resourcesOf = <T extends CfnResource>(scope: IConstruct, cls: { CFN_RESOURCE_TYPE_NAME: string }) =>
  Stack.of(scope)
    .node.findAll()
    .filter((c): c is T => CfnResource.isCfnResource(c) && c.cfnResourceType === cls.CFN_RESOURCE_TYPE_NAME);

/** Whether `property` of some resource refers to `resource` (by `Ref`). */
function referencedBy(resource: CfnResource, referrers: CfnResource[], property: (r: never) => unknown): boolean {
  const stack = Stack.of(resource);
  const ref = JSON.stringify(stack.resolve(resource.ref));
  return referrers.some((r) => JSON.stringify(stack.resolve(property(r as never)) ?? null).includes(ref));
}

/** The bucket other buckets of the stack deliver their server access logs to. */
const receivesAccessLogs = (bucket: CfnResource) =>
  referencedBy(bucket, resourcesOf(bucket, CfnBucket), (b: CfnBucket) => b.loggingConfiguration);

/** `kmsKeyArn` is configured: some log group of the stack (the state machines') is encrypted with it. */
const customerKeyInUse = (scope: CfnResource) =>
  resourcesOf<CfnLogGroup>(scope, CfnLogGroup).some((g) => g.kmsKeyId !== undefined);

/** `network` is configured: the functions are attached to the customer's subnets. */
const functionsInVpc = (scope: CfnResource) =>
  resourcesOf<CfnFunction>(scope, CfnFunction).some((f) => f.vpcConfig !== undefined);

const pathMatches = (pattern: RegExp) => (resource: CfnResource) => pattern.test(resource.node.path);

/**
 * The one place where guard findings are accepted. Fix a finding in the construct when that is
 * right; otherwise add a row here, matching resources by what they are rather than by their ids.
 * A row whose reason starts with "TODO fix" is a fix that belongs in the construct.
 */
export const GUARD_ACKNOWLEDGEMENTS: readonly GuardAcknowledgement[] = [
  {
    rule: 'cloudwatch_log_group_encrypted_check', // CT.CLOUDWATCH.PR.3
    type: 'AWS::Logs::LogGroup',
    where: (g) => !customerKeyInUse(g),
    reason:
      'No kmsKeyArn is configured: CloudWatch Logs encrypts every log group at rest with its own key; a customer-managed key is opt-in.',
  },
  {
    rule: 'lambda_inside_vpc_check', // CT.LAMBDA.PR.3
    type: 'AWS::Lambda::Function',
    where: (f) => !functionsInVpc(f),
    reason:
      'No network is configured, so the functions reach the appliances and AWS APIs directly; with network every function runs in the given subnets and this rule applies.',
  },
  {
    rule: 's3_bucket_logging_enabled_check', // CT.S3.PR.2
    type: 'AWS::S3::Bucket',
    where: receivesAccessLogs,
    reason: 'This bucket receives the server access logs; logging it as well would log the log deliveries.',
  },
  {
    rule: 's3_bucket_versioning_enabled_check', // CT.S3.PR.11
    type: 'AWS::S3::Bucket',
    where: receivesAccessLogs,
    reason: 'Server access logs are written once by S3 and expire by lifecycle; versions would only keep expired logs.',
  },
  {
    rule: 's3_bucket_default_encryption_kms_check', // CT.S3.PR.10
    type: 'AWS::S3::Bucket',
    where: receivesAccessLogs,
    reason: 'S3 server access logging delivers only to buckets whose default encryption is SSE-S3, not SSE-KMS.',
  },
  {
    rule: 's3_bucket_default_encryption_kms_check', // CT.S3.PR.10
    type: 'AWS::S3::Bucket',
    where: (b) => pathMatches(/\/Archive\//)(b) && !customerKeyInUse(b),
    reason:
      'No kmsKeyArn is configured: the archive is encrypted with SSE-S3; with kmsKeyArn it uses the customer key.',
  },
  {
    rule: 's3_event_notifications_enabled_check', // CT.S3.PR.4
    type: 'AWS::S3::Bucket',
    reason:
      'Nothing reacts to object events: the stack writes its buckets itself, and the workflows report each archived object in their output and lifecycle events.',
  },
  {
    rule: 's3_bucket_object_lock_enabled_check', // CT.S3.PR.9
    type: 'AWS::S3::Bucket',
    reason:
      "Retention is the lifecycle rules' (archive.expireDays, one day for superseded versions); a WORM lock would keep every version past them, a choice for the account, not this stack.",
  },
  {
    rule: 'sqs_dlq_check', // CT.SQS.PR.1
    type: 'AWS::SQS::Queue',
    where: pathMatches(/DeadLetters\//),
    reason: 'This queue is itself the dead-letter queue of the release rule and the schedules.',
  },
];

/** Records each row of the table as an acknowledgement on the resources it matches. */
class GuardAcknowledgements implements IAspect {
  visit(node: IConstruct): void {
    if (!CfnResource.isCfnResource(node)) return;
    for (const { rule, type, where, reason } of GUARD_ACKNOWLEDGEMENTS) {
      if (node.cfnResourceType === type && (where?.(node) ?? true)) {
        Validations.of(node).acknowledge({ id: `${GUARD_PLUGIN}::${rule}`, reason });
      }
    }
  }
}
