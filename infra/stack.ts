import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, TimeZone, Validations, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, RuleTargetInput, EventField } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { DeploymentConfig } from './config';
import { SpsFunction } from './constructs/sps-function';
import { Workflow } from './constructs/workflow';
import { FUNCTIONS, pascalCase, SESSION_SECRET_PREFIX, substitutionKey } from './functions';
import { nagArn } from './nag';

/** The EventBridge event that announces a firmware release (README, "Firmware release event"). */
export { RELEASE_EVENT } from '../lambdas/operations/catalog';

export interface SpsWorkflowsStackProps extends StackProps {
  config: DeploymentConfig;
}

export class SpsWorkflowsStack extends Stack {
  readonly firmwareUpgrade: Workflow;
  readonly supportBundle: Workflow;
  readonly archiveBucket: Bucket;
  readonly lockTable: Table;
  readonly functions: Record<string, IFunction> = {};

  constructor(scope: Construct, id: string, props: SpsWorkflowsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const kmsKey: IKey | undefined = config.kmsKeyArn ? Key.fromKeyArn(this, 'Cmk', config.kmsKeyArn) : undefined;
    const topic = this.notificationTopic(config);

    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(config.archive.expireDays) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the server access log bucket of the archive bucket; logging it again would recurse.',
    });
    this.archiveBucket = new Bucket(this, 'Archive', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          transitions: [
            { storageClass: StorageClass.GLACIER, transitionAfter: Duration.days(config.archive.coldStorageDays) },
          ],
          expiration: Duration.days(config.archive.expireDays),
          // The archiver copies each object onto itself to add its sha256: drop the first version soon.
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const network = config.network;
    const vpc = network ? ec2.Vpc.fromLookup(this, 'Vpc', { vpcId: network.vpcId }) : undefined;
    const subnets = network && {
      subnets: network.subnetIds.map((id, i) => ec2.Subnet.fromSubnetId(this, `Subnet${i}`, id)),
    };
    if (network) {
      Validations.of(this).acknowledge({
        id: 'Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId',
        reason: 'The functions only attach to the configured subnets; nothing reads their route tables.',
      });
    }
    const securityGroups = network?.securityGroupIds.map((id, i) =>
      ec2.SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, id),
    );
    if (network?.createEndpoints && vpc && subnets && securityGroups) {
      this.endpoints(vpc, subnets, securityGroups, network.createEndpoints.routeTableIds);
    }
    // One workflow at a time per appliance: the lock functions' table. Locks are short-lived state.
    this.lockTable = new Table(this, 'ApplianceLocks', {
      partitionKey: { name: 'appliance', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: kmsKey ? TableEncryption.CUSTOMER_MANAGED : TableEncryption.AWS_MANAGED,
      encryptionKey: kmsKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const machineNames = [`${this.stackName}-firmware-upgrade`, `${this.stackName}-support-bundle`] as const;

    for (const spec of FUNCTIONS) {
      const construct = new SpsFunction(this, pascalCase(spec.name), {
        spec,
        environment: {
          SESSION_SECRET_PREFIX,
          CREDENTIALS_SECRET_PREFIX: config.credentialsSecretPrefix,
          ...(spec.archive ? { ARCHIVE_BUCKET: this.archiveBucket.bucketName } : {}),
          ...(spec.locks ? { LOCK_TABLE: this.lockTable.tableName } : {}),
        },
        vpc,
        subnets,
        securityGroups,
        logRetention: config.logRetentionDays,
      });
      if (spec.sps || spec.credentials) this.grantCredentials(construct, config);
      if (spec.sps) this.grantSessions(construct);
      if (spec.archive) this.grantArchive(construct, config.archive.prefix);
      if (spec.locks) this.grantLocks(construct, machineNames);
      this.functions[substitutionKey(spec.name)] = construct.fn;
    }

    this.firmwareUpgrade = new Workflow(this, 'FirmwareUpgrade', {
      file: 'firmware-upgrade.asl.json',
      stateMachineName: machineNames[0],
      functions: this.functions,
      topic,
      kmsKey,
      logRetention: config.logRetentionDays,
    });
    this.supportBundle = new Workflow(this, 'SupportBundle', {
      file: 'support-bundle.asl.json',
      stateMachineName: machineNames[1],
      functions: this.functions,
      topic,
      kmsKey,
      logRetention: config.logRetentionDays,
    });
    this.triggers(config, topic);
  }

  /**
   * What the functions reach without a NAT: Secrets Manager (every SPS function and validate-input)
   * and Step Functions (the lock functions' DescribeExecution) through interface endpoints that
   * only the functions' security groups may use; S3 (the archiver) and DynamoDB (the lock table)
   * through gateway endpoints on the subnets' route tables.
   */
  private endpoints(
    vpc: ec2.IVpc,
    subnets: ec2.SubnetSelection,
    functionGroups: ec2.ISecurityGroup[],
    routeTableIds: string[],
  ): void {
    const group = new ec2.SecurityGroup(this, 'EndpointsSecurityGroup', {
      vpc,
      description: 'HTTPS from the SPS workflow functions to their VPC endpoints',
      allowAllOutbound: false,
    });
    for (const fnGroup of functionGroups) group.addIngressRule(fnGroup, ec2.Port.tcp(443), 'SPS workflow functions');
    for (const [id, service] of [
      ['SecretsManagerEndpoint', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
      ['StepFunctionsEndpoint', ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS],
    ] as const) {
      new ec2.InterfaceVpcEndpoint(this, id, {
        vpc,
        service,
        subnets,
        securityGroups: [group],
        privateDnsEnabled: true,
        open: false,
      });
    }
    for (const [id, service] of [
      ['S3Endpoint', 's3'],
      ['DynamoDbEndpoint', 'dynamodb'],
    ] as const) {
      new ec2.CfnVPCEndpoint(this, id, {
        vpcId: vpc.vpcId,
        serviceName: `com.amazonaws.${this.region}.${service}`,
        vpcEndpointType: 'Gateway',
        routeTableIds,
      });
    }
  }

  private notificationTopic(config: DeploymentConfig): ITopic {
    if (config.notifications.topicArn) return Topic.fromTopicArn(this, 'Notifications', config.notifications.topicArn);
    const topic = new Topic(this, 'Notifications', { displayName: 'SPS workflows', enforceSSL: true });
    if (config.notifications.email) topic.addSubscription(new EmailSubscription(config.notifications.email));
    return topic;
  }

  private secretArn(name: string): string {
    // Secrets Manager appends a random 6-character suffix to every secret ARN.
    return Arn.format(
      {
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${name}-??????`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      this,
    );
  }

  /** Credentials: the documented prefix, and the configured appliances' secrets named elsewhere. */
  private grantCredentials({ fn }: SpsFunction, config: DeploymentConfig): void {
    const credentials = [
      ...config.appliances.flatMap((a) => (a.credentialsSecretId ? [this.secretArn(a.credentialsSecretId)] : [])),
      Arn.format(
        {
          service: 'secretsmanager',
          resource: 'secret',
          resourceName: `${config.credentialsSecretPrefix}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        },
        this,
      ),
    ];
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [...new Set(credentials)] }),
    );
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, 'secretsmanager', `secret:${config.credentialsSecretPrefix}*`)}]`,
      reason:
        'Appliances are registered by creating their credentials secret under this documented prefix, and only there.',
    });
  }

  /** Session secrets: read and written under the stack's own prefix. */
  private grantSessions({ fn }: SpsFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret'],
        resources: [
          Arn.format(
            {
              service: 'secretsmanager',
              resource: 'secret',
              resourceName: `${SESSION_SECRET_PREFIX}*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            this,
          ),
        ],
      }),
    );
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, 'secretsmanager', `secret:${SESSION_SECRET_PREFIX}*`)}]`,
      reason: "Session secrets are created per appliance at run time, under the stack's own prefix.",
    });
  }

  /** The archiver writes (multipart, copy-in-place for metadata) under the archive prefix only. */
  private grantArchive({ fn }: SpsFunction, prefix: string): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resources: [this.archiveBucket.arnForObjects(`${prefix}*`)],
      }),
    );
    const bucketId = this.getLogicalId(this.archiveBucket.node.defaultChild as never);
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
      reason: 'Object keys are made at run time (appliance/date/file); writes are limited to the archive prefix.',
    });
  }

  /** The lock table (put and conditional delete), and the status of the workflows' executions, to tell a live holder. */
  private grantLocks({ fn }: SpsFunction, machineNames: readonly string[]): void {
    this.lockTable.grant(fn, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    // `grant` with explicit actions leaves the table's customer-managed key out: the key's use,
    // through DynamoDB only, with the actions spelled out (no `GenerateDataKey*`, `ReEncrypt*`).
    const key = this.lockTable.encryptionKey;
    if (key) {
      fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
          resources: [key.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${this.region}.amazonaws.com` } },
        }),
      );
    }
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: machineNames.map((name) =>
          Arn.format(
            {
              service: 'states',
              resource: 'execution',
              resourceName: `${name}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            },
            this,
          ),
        ),
      }),
    );
    for (const name of machineNames) {
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, 'states', `execution:${name}:*`)}]`,
        reason: "A lock's holder is any execution of the stack's own two state machines; only their status is read.",
      });
    }
  }

  /** Firmware release events and the nightly archival schedule, per configured appliance. */
  private triggers(config: DeploymentConfig, topic: ITopic): void {
    const dlq = new Queue(this, 'ScheduleDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the schedules.',
    });
    // A start that never happened (a release event or a nightly archival that could not start an
    // execution) must not go unnoticed: the queue holding it raises an alarm.
    new Alarm(this, 'UnstartedExecutions', {
      alarmDescription:
        'A release event or a schedule could not start its execution (see the dead-letter queue for the event)',
      metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(topic));
    const bus = EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    // The role the release rules start executions with: EventBridge may assume it only for this
    // account's own rules (no confused deputy).
    const releaseRole = new Role(this, 'ReleaseRuleRole', {
      assumedBy: new ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: {
            'aws:SourceArn': Arn.format({ service: 'events', resource: 'rule', resourceName: '*' }, this),
          },
        },
      }),
    });
    config.appliances.forEach((appliance) => {
      // An array in an event pattern matches when the event's array contains the value: one rule
      // per appliance turns one release event into one upgrade execution per named appliance.
      new Rule(this, `Release-${appliance.name}`, {
        eventBus: bus,
        description: `Starts the firmware upgrade of ${appliance.name} when a release names it`,
        eventPattern: {
          source: [RELEASE_EVENT.source],
          detailType: [RELEASE_EVENT.detailType],
          detail: { appliances: [appliance.name] },
        },
        targets: [
          new SfnStateMachine(this.firmwareUpgrade.stateMachine, {
            role: releaseRole,
            input: RuleTargetInput.fromObject({
              appliance,
              firmware: EventField.fromPath('$.detail.firmware'),
              options: EventField.fromPath('$.detail.options'),
            }),
            retryAttempts: 3,
            deadLetterQueue: dlq,
          }),
        ],
      });
      new Schedule(this, `Archive-${appliance.name}`, {
        description: `Nightly support-bundle archival of ${appliance.name}`,
        schedule: ScheduleExpression.expression(config.archive.schedule, TimeZone.of(config.archive.timeZone)),
        target: new StepFunctionsStartExecution(this.supportBundle.stateMachine, {
          input: ScheduleTargetInput.fromObject({ appliance, archive: { prefix: config.archive.prefix } }),
          deadLetterQueue: dlq,
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
    });
  }
}
