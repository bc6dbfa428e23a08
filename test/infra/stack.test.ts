import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig, type DeploymentConfig } from '../../infra/config';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FUNCTIONS, handlerEntry, pascalCase, ROOT, substitutionKey } from '../../infra/functions';
import { OPERATIONS } from '../../lambdas/operations';
import { RELEASE_EVENT, SpsWorkflowsStack } from '../../infra/stack';
import { APPROVAL_EVENT } from '../../lambdas/operations/catalog';
import cdkJson from '../../cdk.json';

const CONFIG = parseConfig({
  appliances: [
    { name: 'sps-prod-1', endpoint: 'https://sps1.example.internal', credentialsSecretId: 'sps/sps-prod-1' },
    { name: 'sps-prod-2', endpoint: 'https://sps2.example.internal', credentialsSecretId: 'sps/sps-prod-2' },
  ],
  notifications: { email: 'ops@example.com' },
});

/** Cloud assemblies go to folders of their own, removed after the suite. */
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** An app with the project's feature flags that bundles nothing. */
function testApp(context: Record<string, unknown> = {}) {
  outdirs.push(mkdtempSync(join(tmpdir(), 'cdk.out-')));
  return new App({
    outdir: outdirs.at(-1),
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
}

/** Synthesizes without bundling (unit tests); one CI step synthesizes with bundling via `cdk synth`. */
function synth(config: DeploymentConfig = CONFIG, withNag = false) {
  const app = testApp();
  const stack = new SpsWorkflowsStack(app, 'SpsWorkflows', { config });
  if (withNag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

const { stack, template } = synth();
/** The state machines: the three appliance workflows and the fleet run. */
const MACHINES = 5;
const resources = (type: string) =>
  Object.values(template.findResources(type)) as Array<{ Properties: Record<string, unknown> }>;

describe('functions', () => {
  it('deploys exactly the operations the handlers implement, each from its entry file', () => {
    expect(FUNCTIONS.map((f) => f.name).sort()).toEqual(Object.keys(OPERATIONS).sort());
    for (const f of FUNCTIONS) expect(existsSync(handlerEntry(f.name))).toBe(true);
    const handlerFiles = readdirSync(join(ROOT, 'lambdas', 'handlers')).map((f) => f.replace(/\.ts$/, ''));
    expect(handlerFiles.sort()).toEqual(FUNCTIONS.map((f) => f.name).sort());
  });

  it('creates one function per operation on the latest Node.js runtime, arm64, with its memory and timeout', () => {
    const functions = resources('AWS::Lambda::Function');
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const spec of FUNCTIONS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: `SPS workflows: ${spec.name}`,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
    }
  });

  it('gives every function and state machine its own log group, kept a year by default and when the stack goes', () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup')) as Array<{
      Properties: { RetentionInDays?: number };
      DeletionPolicy?: string;
    }>;
    const kept = groups.filter((g) => g.Properties.RetentionInDays === 365 && g.DeletionPolicy === 'Retain');
    expect(kept.length).toBe(FUNCTIONS.length + MACHINES);
    const custom = synth(parseConfig({ logRetentionDays: 3653 })).template;
    expect(Object.values(custom.findResources('AWS::Logs::LogGroup')).map((g) => g.Properties.RetentionInDays)).toEqual(
      Array(FUNCTIONS.length + MACHINES).fill(3653),
    );
  });

  it('gives functions in a VPC the network-interface actions only, never the AWS policy that may write any log group', () => {
    const vpcId = 'vpc-0123456789abcdef0';
    const app = testApp({
      [`vpc-provider:account=123456789012:filter.vpc-id=${vpcId}:region=eu-west-1:returnAsymmetricSubnets=true`]: {
        vpcId,
        vpcCidrBlock: '198.51.100.0/24',
        availabilityZones: [],
        subnetGroups: [],
      },
    });
    const stack = new SpsWorkflowsStack(app, 'Vpc', {
      config: parseConfig({
        network: { vpcId, subnetIds: ['subnet-0123456789abcdef0'], securityGroupIds: ['sg-0123456789abcdef0'] },
      }),
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const json = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(json).not.toContain('AWSLambdaVPCAccessExecutionRole');
    expect(json).toContain('ec2:CreateNetworkInterface');
  });

  it('uses no AWS managed policy and no wildcard resource for Secrets Manager (but listing names) or S3', () => {
    for (const role of resources('AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    for (const policy of resources('AWS::IAM::Policy')) {
      const statements = (
        policy.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[]; Resource: unknown }> }
      ).Statement;
      for (const st of statements) {
        const actions = ([] as string[]).concat(st.Action);
        // ListSecrets has no resource-level permission (it reveals names only): every other action has.
        const scoped = actions.filter((a) => a !== 'secretsmanager:ListSecrets');
        if (scoped.some((a) => a.startsWith('secretsmanager:') || a.startsWith('s3:'))) {
          expect(JSON.stringify(st.Resource)).not.toBe('"*"');
          expect(([] as unknown[]).concat(st.Resource)).not.toContain('*');
        }
      }
    }
  });

  it('lets only the SPS functions (and validate-input, read-only) read credentials, only the SPS functions write session secrets, and only the archiver write S3', () => {
    const json = JSON.stringify(template.toJSON());
    expect(json).toContain('secret:sps-workflows/sessions/*');
    expect(json).toContain('secret:sps/*');
    const s3Writers = resources('AWS::IAM::Policy').filter((p) =>
      JSON.stringify(p.Properties).includes('s3:PutObject'),
    );
    // The archiver, and the functions that store fleet reports (and a release's upgrade notes beside them).
    const reporting = FUNCTIONS.filter((f) => f.reports).map((f) => pascalCase(f.name));
    expect(reporting.sort()).toEqual(['ReadUpgradeNotes', 'ReportFleetRun', 'ReportFleetUpgrade']);
    expect(s3Writers).toHaveLength(1 + reporting.length);
    const [archiver, ...reporters] = ['ArchiveSupportBundle', ...reporting].map((fn) =>
      JSON.stringify(s3Writers.find((p) => JSON.stringify(p).includes(fn))),
    );
    expect(archiver).toContain('/support-bundles/*');
    for (const reporter of reporters) {
      expect(reporter).toContain('/reports/*');
      expect(reporter).not.toContain('s3:GetObject');
    }
    const readers = resources('AWS::IAM::Policy').filter((p) =>
      JSON.stringify(p.Properties).includes('secretsmanager:GetSecretValue'),
    );
    expect(readers).toHaveLength(FUNCTIONS.filter((f) => f.sps || f.credentials).length);
    const writers = resources('AWS::IAM::Policy').filter((p) =>
      JSON.stringify(p.Properties).includes('secretsmanager:PutSecretValue'),
    );
    expect(writers).toHaveLength(FUNCTIONS.filter((f) => f.sps).length);
    const validateInput = readers.find((p) => JSON.stringify(p).includes('ValidateInput'));
    expect(JSON.stringify(validateInput)).not.toContain('sps-workflows/sessions');
    const listers = resources('AWS::IAM::Policy').filter((p) =>
      JSON.stringify(p.Properties).includes('secretsmanager:ListSecrets'),
    );
    // The fleet run's plan lists names only; the fleet upgrade's also reads them (it logs in to inventory).
    expect(listers.map((p) => JSON.stringify(p).match(/PlanFleet\w+?Role/)?.[0]).sort()).toEqual([
      'PlanFleetRunRole',
      'PlanFleetUpgradeRole',
    ]);
    expect(JSON.stringify(listers.find((p) => JSON.stringify(p).includes('PlanFleetRun')))).not.toContain(
      'GetSecretValue',
    );
  });

  it('grants the credentials secrets by the registry prefix, naming only the config secrets outside it', () => {
    const { template: t } = synth(
      parseConfig({
        appliances: [
          { name: 'sps-prod-1', credentialsSecretId: 'sps/sps-prod-1' },
          { name: 'lab', credentialsSecretId: 'lab/creds' },
        ],
      }),
    );
    const json = JSON.stringify(t.toJSON());
    expect(json).toContain(':secret:sps/*');
    expect(json).toContain(':secret:lab/creds-??????');
    expect(json).not.toContain(':secret:sps/sps-prod-1');
  });

  it('lets only the lock functions write the lock table and read the status of the workflows own executions', () => {
    const [table] = resources('AWS::DynamoDB::Table');
    expect(table!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'appliance', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    const lockers = resources('AWS::IAM::Policy').filter((p) => JSON.stringify(p.Properties).includes('dynamodb:'));
    expect(lockers).toHaveLength(FUNCTIONS.filter((f) => f.locks).length);
    for (const policy of lockers) {
      const text = JSON.stringify(policy.Properties);
      expect(text).toContain('states:DescribeExecution');
      expect(text).toContain(':execution:SpsWorkflows-firmware-upgrade:*');
      expect(text).toContain(':execution:SpsWorkflows-support-bundle:*');
    }
    const withTable = resources('AWS::Lambda::Function').filter((f) =>
      JSON.stringify(f.Properties).includes('LOCK_TABLE'),
    );
    expect(withTable).toHaveLength(2);
  });
});

describe('state machines', () => {
  it('creates each as a Standard workflow with ALL logging (no execution data) and tracing', () => {
    const machines = resources('AWS::StepFunctions::StateMachine');
    expect(machines).toHaveLength(MACHINES);
    for (const m of machines) {
      expect(m.Properties).toMatchObject({
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      });
    }
  });

  it('resolves every ${...} substitution of every ASL file to a function the stack creates, or to its state machines', () => {
    for (const m of resources('AWS::StepFunctions::StateMachine')) {
      const subs = m.Properties.DefinitionSubstitutions as Record<string, unknown>;
      const body = JSON.stringify(m.Properties.DefinitionString);
      const used = [...body.matchAll(/\$\{(\w+)\}/g)].map((x) => x[1]!);
      expect(used.length).toBeGreaterThan(0);
      for (const key of used) {
        expect(subs[key]).toBeDefined();
        if (key === 'StateMachineArnPrefix') expect(JSON.stringify(subs[key])).toContain(':stateMachine:SpsWorkflows-');
        else if (key === 'EventBusArn')
          expect(subs[key]).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Events/), 'Arn'] });
        else expect(stack.functions[key]).toBeDefined();
      }
    }
    expect(Object.keys(stack.functions).sort()).toEqual(FUNCTIONS.map((f) => substitutionKey(f.name)).sort());
  });

  it('alarms on failed, timed-out and aborted executions to the notification topic', () => {
    const alarms = resources('AWS::CloudWatch::Alarm').filter((a) => a.Properties.Namespace === 'AWS/States');
    expect(alarms).toHaveLength(3 * MACHINES);
    expect(alarms.map((a) => a.Properties.MetricName).sort()).toEqual(
      ['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut'].flatMap((m) => Array(MACHINES).fill(m)),
    );
    for (const a of alarms)
      expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Notifications/) }]);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('raises an alarm when a release event or a schedule could not start its execution (its dead-letter queue holds it)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Notifications') }],
    });
  });

  it("lets EventBridge start upgrades only for this account's own rules (no confused deputy)", () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role')).filter((r) =>
      JSON.stringify(r).includes('events.amazonaws.com'),
    );
    expect(roles).toHaveLength(1);
    expect(roles[0]!.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      ArnLike: { 'aws:SourceArn': expect.objectContaining({ 'Fn::Join': expect.anything() }) },
    });
    expect(JSON.stringify(roles[0]!.Properties.AssumeRolePolicyDocument)).toContain(':rule/*');
  });

  it("may put its own lifecycle events on the stack's bus, never a release event", () => {
    const statements = resources('AWS::IAM::Policy')
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement)
      .filter((st) => JSON.stringify(st.Action).includes('events:PutEvents'));
    expect(statements.map((st) => st.Condition)).toEqual([
      {
        StringEquals: {
          'events:source': ['sps-workflows'],
          'events:detail-type': ['Firmware Upgrade Succeeded', 'Firmware Upgrade Failed'],
        },
      },
      {
        StringEquals: {
          'events:source': ['sps-workflows'],
          'events:detail-type': ['Support Bundle Archived', 'Support Bundle Failed'],
        },
      },
      {
        StringEquals: {
          'events:source': ['sps-workflows'],
          'events:detail-type': ['Preflight Checked', 'Preflight Failed'],
        },
      },
      {
        StringEquals: {
          'events:source': ['sps-workflows'],
          'events:detail-type': ['Fleet Appliances Not Registered', 'Fleet Run Finished'],
        },
      },
      {
        StringEquals: {
          'events:source': ['sps-workflows'],
          'events:detail-type': ['Cluster Mixed Versions', 'Fleet Approval Requested', 'Fleet Upgrade Finished'],
        },
      },
    ]);
    for (const st of statements)
      expect(st.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Events/), 'Arn'] });
    expect(JSON.stringify(statements)).not.toContain(RELEASE_EVENT.detailType);
  });

  it('encrypts with the customer-managed key when one is configured', () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { template: t } = synth({ ...CONFIG, kmsKeyArn });
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: { KmsKeyId: kmsKeyArn, Type: 'CUSTOMER_MANAGED_KMS_KEY' },
    });
    // The roles may use the key only in their own state machine's encryption context: a named one
    // (an unnamed machine's ARN is not known at synth, and the condition would match nothing).
    const json = JSON.stringify(t.toJSON());
    expect(json).toContain('kms:EncryptionContext:aws:states:stateMachineArn');
    expect(json).not.toContain(':stateMachine:"');
    for (const name of ['SpsWorkflows-firmware-upgrade', 'SpsWorkflows-support-bundle']) {
      expect(json).toContain(`:stateMachine:${name}"`);
    }
    // The lock table is encrypted with the key too: its functions may use it.
    const lockPolicies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p).includes('dynamodb:PutItem'),
    );
    expect(lockPolicies).toHaveLength(2);
    for (const policy of lockPolicies) {
      const statements = (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } })
        .Properties.PolicyDocument.Statement;
      expect(statements).toContainEqual({
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Condition: { StringEquals: { 'kms:ViaService': expect.anything() } },
        Effect: 'Allow',
        Resource: kmsKeyArn,
      });
      expect(JSON.stringify(policy)).not.toMatch(/kms:[A-Za-z]+\*/);
    }
    // The archive: bundles under the key (with S3 Bucket Keys), which the archiver uses through S3 only.
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: kmsKeyArn },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'SPS workflows: archive-support-bundle',
      Environment: { Variables: Match.objectLike({ ARCHIVE_KMS_KEY_ID: kmsKeyArn }) },
    });
    const archiver = Object.values(t.findResources('AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p).includes('s3:PutObject'),
    ) as { Properties: { PolicyDocument: { Statement: unknown[] } } };
    expect(archiver.Properties.PolicyDocument.Statement).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: {
        StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
      },
      Effect: 'Allow',
      Resource: kmsKeyArn,
    });
    // Every log group (functions and state machines) is encrypted with it.
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(FUNCTIONS.length + MACHINES);
    for (const g of groups) expect(g.Properties.KmsKeyId).toBe(kmsKeyArn);
  });

  it('keeps S3-managed encryption and the archiver on SSE-S3 without a customer key', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('ARCHIVE_KMS_KEY_ID');
  });
});

describe('network', () => {
  it('puts every function in the configured subnets and security groups', () => {
    const vpcId = 'vpc-0123456789abcdef0';
    const app = testApp({
      [`vpc-provider:account=123456789012:filter.vpc-id=${vpcId}:region=eu-west-1:returnAsymmetricSubnets=true`]: {
        vpcId,
        vpcCidrBlock: '198.51.100.0/24', // a documentation range: this lookup result is never used
        availabilityZones: [],
        subnetGroups: [],
      },
    });
    const network = {
      vpcId,
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      securityGroupIds: ['sg-0123456789abcdef0'],
    };
    const stack = new SpsWorkflowsStack(app, 'Vpc', {
      config: parseConfig({ network }),
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(FUNCTIONS.length);
    for (const f of functions) {
      expect(f.Properties.VpcConfig).toEqual({
        SubnetIds: network.subnetIds,
        SecurityGroupIds: network.securityGroupIds,
      });
    }
  });
});

describe('archive bucket', () => {
  it('blocks public access, enforces TLS, encrypts, versions, logs access and applies the lifecycle', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: Match.objectLike({}),
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'archive/' }),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            ExpirationInDays: 365,
            Transitions: [{ StorageClass: 'GLACIER', TransitionInDays: 30 }],
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
    const sslDenies = resources('AWS::S3::BucketPolicy').filter((p) =>
      JSON.stringify(p.Properties).includes('aws:SecureTransport'),
    );
    expect(sslDenies).toHaveLength(2);
  });
});

describe('dashboard', () => {
  it("shows every workflow's executions by outcome and durations, and the dead-letter queue; its name is an output", () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard!.Properties.DashboardBody);
    for (const title of ['Firmware upgrade', 'Support-bundle archival', 'Preflight', 'Fleet runs', 'Fleet upgrades']) {
      expect(body).toContain(`${title}: executions by outcome`);
      expect(body).toContain(`${title}: duration`);
    }
    for (const metric of [
      'ExecutionsSucceeded',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
      'ExecutionsAborted',
      'ExecutionTime',
    ])
      expect(body).toContain(metric);
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    // The handlers' own figures (Powertools Metrics).
    const unescaped = body.replace(/\\+"/g, '"');
    for (const metric of [
      'ArchivedBytes',
      'ArchiveSeconds',
      'Preflights',
      'FleetAppliancesFailed',
      'FleetAppliancesUpgraded',
      'ClustersOnMixedVersions',
    ])
      expect(unescaped).toContain(`"SpsWorkflows","${metric}"`);
    template.hasOutput('DashboardName', { Value: { Ref: Match.stringLikeRegexp('^Dashboard') } });
  });
});

describe('event bus', () => {
  const policies = (t: Template) =>
    Object.values(t.findResources('AWS::Events::EventBusPolicy')).map((p) => p.Properties.Statement);

  it("is the stack's own: only the named publishers and the stack's state machines may put events on it", () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'sps-workflows' });
    const publisher = 'arn:aws:iam::123456789012:role/release-pipeline';
    const { template: t } = synth(parseConfig({ events: { publishers: [publisher] } }));
    const [allow, deny] = policies(t);
    expect(allow).toMatchObject({ Effect: 'Allow', Principal: { AWS: publisher }, Action: 'events:PutEvents' });
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'events:PutEvents' });
    const allowed = deny.Condition.ArnNotLike['aws:PrincipalArn'] as unknown[];
    expect(allowed[0]).toBe(publisher);
    expect(allowed.slice(1)).toEqual(
      ['FirmwareUpgrade', 'SupportBundle', 'Preflight', 'FleetRun', 'FleetUpgrade'].map((m) => ({
        'Fn::GetAtt': [expect.stringMatching(new RegExp(`^${m}StateMachineRole`)), 'Arn'],
      })),
    );
    // Without publishers, nobody but the state machines.
    expect(policies(template).map((p) => p.Effect)).toEqual(['Deny']);
  });

  it('refuses a config that names the default bus or a publisher that is not an IAM principal', () => {
    expect(() => parseConfig({ events: { busName: 'default' } })).toThrow(/events\.busName: not the default bus/);
    expect(() => parseConfig({ events: { publishers: ['*'] } })).toThrow(/events\.publishers\.0: an IAM principal ARN/);
  });
});

/** What a role's policy allows `action` on (its resources, as JSON text). */
const allowedTo = (role: string) => {
  const policy = resources('AWS::IAM::Policy').find((p) => JSON.stringify(p).includes(role))!;
  const statements = (policy.Properties.PolicyDocument as { Statement: Array<{ Action: unknown; Resource: unknown }> })
    .Statement;
  return (action: string) =>
    JSON.stringify(
      statements.filter((st) => ([] as unknown[]).concat(st.Action).includes(action)).map((st) => st.Resource),
    );
};

describe('triggers', () => {
  const fleetRun = { Ref: expect.stringMatching(/^FleetRunStateMachine/) };

  it('turns every firmware release event into one fleet upgrade (the event whole is its input), whatever the number of appliances', () => {
    const rules = resources('AWS::Events::Rule').filter((r) => JSON.stringify(r).includes(RELEASE_EVENT.detailType));
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties).toMatchObject({
      EventBusName: { Ref: expect.stringMatching(/^Events/) },
      EventPattern: { source: [RELEASE_EVENT.source], 'detail-type': [RELEASE_EVENT.detailType] },
      Targets: [
        {
          Arn: { Ref: expect.stringMatching(/^FleetUpgradeStateMachine/) },
          Id: 'Target0',
          RetryPolicy: { MaximumRetryAttempts: 3 },
          DeadLetterConfig: { Arn: expect.anything() },
          RoleArn: expect.anything(),
        },
      ],
    });
    expect(rules[0]!.Properties.Targets).toEqual([
      expect.not.objectContaining({ InputTransformer: expect.anything() }),
    ]);
  });

  it('schedules one nightly fleet run of archives, with its concurrency, retries and a dead-letter queue', () => {
    const schedules = resources('AWS::Scheduler::Schedule');
    expect(schedules).toHaveLength(1);
    expect(schedules[0]!.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 2 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      Target: { Arn: fleetRun, RetryPolicy: { MaximumRetryAttempts: 3 }, DeadLetterConfig: { Arn: expect.anything() } },
    });
    expect(JSON.parse((schedules[0]!.Properties.Target as { Input: string }).Input)).toEqual({
      workflow: 'support-bundle',
      appliances: CONFIG.appliances,
      input: { archive: { prefix: 'support-bundles/' } },
      maxConcurrency: 10,
    });
    // Without appliances in the config, every registered appliance.
    const all = synth(parseConfig({ archive: { maxConcurrency: 25 } })).template;
    const [schedule] = Object.values(all.findResources('AWS::Scheduler::Schedule'));
    expect(JSON.parse(schedule!.Properties.Target.Input as string)).toEqual({
      workflow: 'support-bundle',
      input: { archive: { prefix: 'support-bundles/' } },
      maxConcurrency: 25,
    });
  });

  it('schedules the weekly preflight of every registered appliance only when configured', () => {
    expect(resources('AWS::Scheduler::Schedule')).toHaveLength(1);
    const { template: t } = synth(
      parseConfig({ preflight: { schedule: 'cron(0 6 ? * MON *)', timeZone: 'Europe/Budapest', maxConcurrency: 5 } }),
    );
    const weekly = Object.values(t.findResources('AWS::Scheduler::Schedule')).find((s) =>
      JSON.stringify(s).includes('preflight'),
    )!;
    expect(weekly.Properties).toMatchObject({
      ScheduleExpression: 'cron(0 6 ? * MON *)',
      ScheduleExpressionTimezone: 'Europe/Budapest',
      Target: { Arn: fleetRun, DeadLetterConfig: { Arn: expect.anything() } },
    });
    expect(JSON.parse(weekly.Properties.Target.Input as string)).toEqual({
      workflow: 'preflight',
      input: { options: { allowClusterMember: true } },
      maxConcurrency: 5,
    });
  });

  it("sends each fleet upgrade's approval request to the notification topic", () => {
    const rules = resources('AWS::Events::Rule').filter((r) => JSON.stringify(r).includes(APPROVAL_EVENT));
    expect(rules.map((r) => r.Properties)).toEqual([
      expect.objectContaining({
        EventBusName: { Ref: expect.stringMatching(/^Events/) },
        EventPattern: { source: ['sps-workflows'], 'detail-type': [APPROVAL_EVENT] },
        Targets: [{ Arn: { Ref: expect.stringMatching(/^Notifications/) }, Id: 'Target0', InputPath: '$.detail' }],
      }),
    ]);
  });

  it('lets the fleet upgrade start, follow and stop only firmware upgrades and its staging fleet run', () => {
    const on = allowedTo('FleetUpgradeStateMachineRole');
    expect(on('states:StartExecution')).toContain('FirmwareUpgradeStateMachine');
    expect(on('states:StartExecution')).toContain('FleetRunStateMachine');
    for (const other of ['SupportBundleStateMachine', 'PreflightStateMachine', '*'])
      expect(on('states:StartExecution')).not.toContain(other);
    expect(on('states:StopExecution')).toContain(':execution:SpsWorkflows-firmware-upgrade:*');
    expect(on('states:StopExecution')).toContain(':execution:SpsWorkflows-fleet-run:*');
    expect(on('states:StopExecution')).not.toContain('support-bundle');
    for (const fn of ['PlanFleetUpgrade', 'AdvanceRollout', 'ReadUpgradeNotes', 'ReportFleetUpgrade'])
      expect(on('lambda:InvokeFunction')).toContain(fn);
    expect(on('lambda:InvokeFunction')).not.toContain('UpgradeFirmware');
  });

  it('lets the fleet run start, follow and stop only the three appliance workflows', () => {
    const on = allowedTo('FleetRunStateMachineRole');
    for (const machine of ['FirmwareUpgradeStateMachine', 'SupportBundleStateMachine', 'PreflightStateMachine'])
      expect(on('states:StartExecution')).toContain(machine);
    expect(on('states:StartExecution')).not.toContain('*');
    expect(on('states:StopExecution')).toContain(':execution:SpsWorkflows-firmware-upgrade:*');
    expect(on('states:StopExecution')).toContain(':execution:SpsWorkflows-support-bundle:*');
    expect(on('states:StopExecution')).toContain(':execution:SpsWorkflows-preflight:*');
    expect(on('events:PutRule')).toContain(':rule/StepFunctionsGetEventsForStepFunctionsExecutionRule');
  });

  it('lets the release rule and the schedule start a fleet run under the customer key, through Step Functions only', () => {
    const kmsKeyArn = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';
    const { template: t } = synth({ ...CONFIG, kmsKeyArn });
    for (const [role, service] of [
      ['ReleaseRuleRole', 'events.amazonaws.com'],
      ['ScheduleRole', 'scheduler.amazonaws.com'],
    ]) {
      const [id] = Object.keys(
        t.findResources('AWS::IAM::Role', {
          Properties: {
            AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: service } })] },
          },
        }),
      );
      expect(id).toMatch(new RegExp(`^${role}`));
      t.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'kms:GenerateDataKey',
              Resource: kmsKeyArn,
              Condition: {
                StringEquals: Match.objectLike({
                  'kms:ViaService': Match.anyValue(),
                  'kms:EncryptionContext:aws:states:stateMachineArn': Match.anyValue(),
                }),
              },
            }),
          ]),
        },
      });
    }
  });
});

describe('cdk-nag', () => {
  it('reports no unacknowledged AwsSolutions finding', () => {
    const { app } = synth(CONFIG, true);
    expect(() => app.synth()).not.toThrow();
  });
});
