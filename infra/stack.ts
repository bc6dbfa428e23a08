import {
  Arn,
  ArnFormat,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  TimeZone,
  Validations,
  type StackProps,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  Metric,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SfnStateMachine, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, ArnPrincipal, Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
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
import { APPROVAL_EVENT, RELEASE_EVENT } from '../lambdas/operations/catalog';
import { FLEET_WORKFLOWS } from '../lambdas/shared/input';

export { RELEASE_EVENT };

/** Where fleet reports go in the archive bucket (README, "Fleet runs"). */
export const REPORTS_PREFIX = 'reports/';

export interface SpsWorkflowsStackProps extends StackProps {
  config: DeploymentConfig;
}

export class SpsWorkflowsStack extends Stack {
  readonly firmwareUpgrade: Workflow;
  readonly supportBundle: Workflow;
  readonly preflight: Workflow;
  readonly fleetRun: Workflow;
  readonly fleetUpgrade: Workflow;
  readonly archiveBucket: Bucket;
  readonly eventBus: EventBus;
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
      // Under a customer key the bundles are encrypted with it (S3 Bucket Keys: one KMS call per
      // object and hour, not per part).
      ...(kmsKey
        ? { encryption: BucketEncryption.KMS, encryptionKey: kmsKey, bucketKeyEnabled: true }
        : { encryption: BucketEncryption.S3_MANAGED }),
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
    this.eventBus = new EventBus(this, 'Events', {
      eventBusName: config.events.busName,
      description: 'SPS workflows: firmware release events in, lifecycle events out',
    });
    // Fixed names: the fleet run names its children by them, and the lock functions their executions.
    const machineNamePrefix = `${this.stackName}-`;
    const machineNames = [
      `${machineNamePrefix}firmware-upgrade`,
      `${machineNamePrefix}support-bundle`,
      `${machineNamePrefix}preflight`,
    ] as const;

    for (const spec of FUNCTIONS) {
      const construct = new SpsFunction(this, pascalCase(spec.name), {
        spec,
        environment: {
          SESSION_SECRET_PREFIX,
          CREDENTIALS_SECRET_PREFIX: config.credentialsSecretPrefix,
          ...(spec.archive || spec.reports ? { ARCHIVE_BUCKET: this.archiveBucket.bucketName } : {}),
          ...((spec.archive || spec.reports) && kmsKey ? { ARCHIVE_KMS_KEY_ID: kmsKey.keyArn } : {}),
          ...(spec.locks ? { LOCK_TABLE: this.lockTable.tableName } : {}),
        },
        vpc,
        subnets,
        securityGroups,
        logRetention: config.logRetentionDays,
        kmsKey,
      });
      if (spec.sps || spec.credentials) this.grantCredentials(construct, config);
      if (spec.sps) this.grantSessions(construct);
      if (spec.archive) this.grantArchive(construct, config.archive.prefix, kmsKey);
      if (spec.reports) this.grantReports(construct, kmsKey);
      if (spec.locks) this.grantLocks(construct, machineNames);
      if (spec.registry) this.grantRegistry(construct);
      this.functions[substitutionKey(spec.name)] = construct.fn;
    }

    // What every workflow shares: the functions, the topic, the bus, the key, the log retention.
    const common = {
      functions: this.functions,
      topic,
      eventBus: this.eventBus,
      kmsKey,
      logRetention: config.logRetentionDays,
    };
    const [firmwareUpgrade, supportBundle, preflight] = machineNames;
    this.firmwareUpgrade = new Workflow(this, 'FirmwareUpgrade', {
      ...common,
      file: 'firmware-upgrade.asl.json',
      stateMachineName: firmwareUpgrade,
    });
    this.supportBundle = new Workflow(this, 'SupportBundle', {
      ...common,
      file: 'support-bundle.asl.json',
      stateMachineName: supportBundle,
    });
    this.preflight = new Workflow(this, 'Preflight', {
      ...common,
      file: 'preflight.asl.json',
      stateMachineName: preflight,
    });
    const stateMachineArnPrefix = Arn.format(
      {
        service: 'states',
        resource: 'stateMachine',
        resourceName: machineNamePrefix,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      },
      this,
    );
    this.fleetRun = new Workflow(this, 'FleetRun', {
      ...common,
      file: 'fleet-run.asl.json',
      stateMachineName: `${machineNamePrefix}fleet-run`,
      children: [this.firmwareUpgrade, this.supportBundle, this.preflight],
      stateMachineArnPrefix,
    });
    // A fleet upgrade stages through one fleet run and upgrades each appliance by a firmware-upgrade child.
    this.fleetUpgrade = new Workflow(this, 'FleetUpgrade', {
      ...common,
      file: 'fleet-upgrade.asl.json',
      stateMachineName: `${machineNamePrefix}fleet-upgrade`,
      children: [this.firmwareUpgrade, this.fleetRun],
      stateMachineArnPrefix,
    });
    this.restrictPublishers(config.events.publishers);
    const dlq = this.triggers(config, topic);
    this.dashboard(dlq);
  }

  /**
   * One page for the fleet: executions by outcome and durations of every workflow, and starts that
   * never happened (the dead-letter queue). Its name is a stack output.
   */
  private dashboard(dlq: Queue): void {
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: this.stackName,
      defaultInterval: Duration.days(7),
    });
    const workflows = {
      'Firmware upgrade': this.firmwareUpgrade,
      'Support-bundle archival': this.supportBundle,
      Preflight: this.preflight,
      'Fleet runs': this.fleetRun,
      'Fleet upgrades': this.fleetUpgrade,
    };
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# SPS workflows\nExecutions by outcome and how long they took; a failed execution names its error (README, "Errors"). Fleet runs report each appliance in their output; fleet preflight reports are under `reports/preflight/`, fleet upgrade reports under `reports/fleet-upgrade/` in the archive bucket.',
        width: 24,
        height: 2,
      }),
    );
    for (const [title, workflow] of Object.entries(workflows)) {
      const machine = workflow.stateMachine;
      const hourly = { period: Duration.hours(1), statistic: Stats.SUM };
      dashboard.addWidgets(
        new GraphWidget({
          title: `${title}: executions by outcome`,
          width: 12,
          left: [
            machine.metricSucceeded(hourly).with({ label: 'succeeded' }),
            machine.metricFailed(hourly).with({ label: 'failed' }),
            machine.metricTimedOut(hourly).with({ label: 'timed out' }),
            machine.metricAborted(hourly).with({ label: 'aborted' }),
          ],
        }),
        new GraphWidget({
          title: `${title}: duration`,
          width: 12,
          left: [
            machine.metricTime({ period: Duration.hours(1), statistic: Stats.AVERAGE }).with({ label: 'average' }),
            machine.metricTime({ period: Duration.hours(1), statistic: Stats.p(90) }).with({ label: 'p90' }),
          ],
        }),
      );
    }
    // What the handlers report (Powertools Metrics, EMF in their logs): namespace SpsWorkflows.
    const figure = (metricName: string, statistic: string, dimensions: Record<string, string> = {}, label?: string) =>
      new Metric({
        namespace: 'SpsWorkflows',
        metricName,
        dimensionsMap: { service: 'sps-workflows', ...dimensions },
        period: Duration.days(1),
        statistic,
        label: label ?? metricName,
      });
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Support bundles archived (bytes a day, and seconds each)',
        width: 8,
        left: [figure('ArchivedBytes', Stats.SUM, {}, 'bytes')],
        right: [figure('ArchiveSeconds', Stats.AVERAGE, {}, 'seconds, average')],
      }),
      new GraphWidget({
        title: 'Preflight verdicts (a day)',
        width: 8,
        left: ['pass', 'warn', 'fail'].map((v) => figure('Preflights', Stats.SUM, { Verdict: v }, v)),
      }),
      new GraphWidget({
        title: 'Fleet runs: appliances that did not succeed (a day)',
        width: 8,
        left: FLEET_WORKFLOWS.map((w) => figure('FleetAppliancesFailed', Stats.SUM, { Workflow: w }, w)),
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Fleet upgrades: appliances upgraded and failed, clusters left on mixed versions (a day)',
        width: 24,
        left: [
          figure('FleetAppliancesUpgraded', Stats.SUM, {}, 'upgraded'),
          figure('FleetAppliancesFailed', Stats.SUM, { Workflow: 'fleet-upgrade' }, 'failed'),
        ],
        right: [figure('ClustersOnMixedVersions', Stats.SUM, {}, 'clusters on mixed versions')],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Starts that never happened (release events and schedules in the dead-letter queue)',
        width: 24,
        left: [dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: Stats.MAXIMUM })],
      }),
    );
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboardName, description: 'CloudWatch dashboard' });
  }

  /**
   * Who may put events on the stack's bus: the configured publishers (a release starts upgrades)
   * and the state machines (their lifecycle events, by IAM condition never a release); nobody else.
   */
  private restrictPublishers(publishers: string[]): void {
    const bus = this.eventBus;
    if (publishers.length > 0) {
      bus.addToResourcePolicy(
        new PolicyStatement({
          sid: 'NamedPublishers',
          principals: publishers.map((arn) => new ArnPrincipal(arn)),
          actions: ['events:PutEvents'],
          resources: [bus.eventBusArn],
        }),
      );
    }
    const machines = [this.firmwareUpgrade, this.supportBundle, this.preflight, this.fleetRun, this.fleetUpgrade];
    bus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'NobodyElse',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        conditions: {
          ArnNotLike: { 'aws:PrincipalArn': [...publishers, ...machines.map((m) => m.stateMachine.role.roleArn)] },
        },
      }),
    );
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

  /** Credentials: the registry's prefix, and the secrets the config's appliances name outside it. */
  private grantCredentials({ fn }: SpsFunction, config: DeploymentConfig): void {
    const credentials = [
      // Secrets the prefix already covers are not listed again.
      ...config.appliances.flatMap((a) =>
        a.credentialsSecretId && !a.credentialsSecretId.startsWith(config.credentialsSecretPrefix)
          ? [this.secretArn(a.credentialsSecretId)]
          : [],
      ),
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

  /** The registry: the names of the credentials secrets (ListSecrets returns no value). */
  private grantRegistry({ fn }: SpsFunction): void {
    fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    Validations.of(fn.role!).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Action::secretsmanager:ListSecrets]',
      reason: 'ListSecrets supports no resource-level permission; it returns names and tags, never a value.',
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
  private grantArchive({ fn }: SpsFunction, prefix: string, kmsKey: IKey | undefined): void {
    // Multipart parts and the copy in place are encrypted and read back with the key.
    if (kmsKey) this.grantKeyThroughS3(fn, kmsKey, ['kms:GenerateDataKey', 'kms:Decrypt']);
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

  /** Fleet reports: new objects under `reports/` only. */
  private grantReports({ fn }: SpsFunction, kmsKey: IKey | undefined): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.archiveBucket.arnForObjects(`${REPORTS_PREFIX}*`)],
      }),
    );
    if (kmsKey) this.grantKeyThroughS3(fn, kmsKey, ['kms:GenerateDataKey']);
    const bucketId = this.getLogicalId(this.archiveBucket.node.defaultChild as never);
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${REPORTS_PREFIX}*]`,
      reason: 'Report keys are dated at run time; writes are limited to the reports prefix.',
    });
  }

  /** The customer key, through S3 only. */
  private grantKeyThroughS3(fn: IFunction, kmsKey: IKey, actions: string[]): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions,
        resources: [kmsKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` } },
      }),
    );
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

  /**
   * One rule for firmware release events and one schedule for the nightly archival, whatever the
   * number of appliances: each starts one fleet run, which lists the registry.
   */
  private triggers(config: DeploymentConfig, topic: ITopic): Queue {
    const dlq = new Queue(this, 'ScheduleDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the release rule and the schedule.',
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
    // The role the release rule starts executions with: EventBridge may assume it only for this
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
    this.fleetUpgrade.grantStart(releaseRole);
    // The schedule's role, likewise only for this account's schedules.
    const scheduleRole = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    this.fleetRun.grantStart(scheduleRole);
    // The whole event is the fleet upgrade's input: it rolls the release out to the appliances it names (default all).
    new Rule(this, 'Release', {
      eventBus: this.eventBus,
      description: 'Starts one fleet upgrade that rolls a firmware release out (the appliances it names, default all)',
      eventPattern: { source: [RELEASE_EVENT.source], detailType: [RELEASE_EVENT.detailType] },
      targets: [
        new SfnStateMachine(this.fleetUpgrade.stateMachine, {
          role: releaseRole,
          retryAttempts: 3,
          deadLetterQueue: dlq,
        }),
      ],
    });
    // A fleet upgrade waiting for a person: the request (plan, staging, task token) goes to the notification topic.
    new Rule(this, 'ApprovalRequests', {
      eventBus: this.eventBus,
      description: 'Sends each fleet upgrade approval request (with its task token) to the notification topic',
      eventPattern: { source: ['sps-workflows'], detailType: [APPROVAL_EVENT] },
      targets: [new SnsTopic(topic, { message: RuleTargetInput.fromEventPath('$.detail') })],
    });
    // Each schedule starts one fleet run; a start that fails three times goes to the dead-letter queue.
    const fleetSchedule = (
      id: string,
      description: string,
      when: { schedule: string; timeZone: string },
      input: object,
    ) =>
      new Schedule(this, id, {
        description,
        schedule: ScheduleExpression.expression(when.schedule, TimeZone.of(when.timeZone)),
        target: new StepFunctionsStartExecution(this.fleetRun.stateMachine, {
          input: ScheduleTargetInput.fromObject(input),
          role: scheduleRole,
          deadLetterQueue: dlq,
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
    fleetSchedule(
      'NightlyArchival',
      'Nightly support-bundle archival of every registered appliance (one fleet run)',
      config.archive,
      {
        workflow: 'support-bundle',
        ...(config.appliances.length > 0 ? { appliances: config.appliances } : {}),
        input: { archive: { prefix: config.archive.prefix } },
        maxConcurrency: config.archive.maxConcurrency,
      },
    );
    if (config.preflight) {
      fleetSchedule(
        'WeeklyPreflight',
        'Weekly preflight of every registered appliance (one fleet run; report under reports/preflight/)',
        config.preflight,
        {
          workflow: 'preflight',
          // Cluster members are upgraded by a fleet upgrade, in the vendor's order: the weekly check
          // warns that an appliance is one instead of failing every week.
          input: {
            ...(config.preflight.targetVersion ? { targetVersion: config.preflight.targetVersion } : {}),
            options: { allowClusterMember: true },
          },
          maxConcurrency: config.preflight.maxConcurrency,
        },
      );
    }
    return dlq;
  }
}
