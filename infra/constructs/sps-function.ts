import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, LogLevel } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_TARGET, handlerEntry, ROOT, RUNTIME_SDK_CLIENTS, type FunctionSpec } from '../functions';

export interface SpsFunctionProps {
  spec: FunctionSpec;
  environment: Record<string, string>;
  vpc?: ec2.IVpc;
  subnets?: ec2.SubnetSelection;
  securityGroups?: ec2.ISecurityGroup[];
  /** How long its logs are kept (they stay when the stack is destroyed). */
  logRetention: RetentionDays;
  /** The customer-managed key its logs are encrypted with, when the deployment has one. */
  kmsKey?: IKey;
}

/** Every function's defaults in one place: runtime, arm64, bundling, logs, tracing. */
export class SpsFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: SpsFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // An audit trail of a privileged-access fleet: kept when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: props.kmsKey,
    });
    // An explicit role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc) {
      // The network interfaces a function in a VPC needs, and nothing more: AWS's
      // AWSLambdaVPCAccessExecutionRole would also let it write to any log group.
      role.addToPolicy(
        new PolicyStatement({
          actions: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
    }
    this.fn = new NodejsFunction(this, 'Function', {
      role,
      entry: handlerEntry(spec.name),
      handler: 'handler',
      projectRoot: ROOT,
      depsLockFilePath: `${ROOT}/package-lock.json`,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      description: `SPS workflows: ${spec.name}`,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      tracing: Tracing.ACTIVE,
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'sps-workflows',
      },
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: props.securityGroups,
      bundling: {
        target: BUNDLE_TARGET,
        // esbuild's size table for each of the functions buried the synth's own output.
        logLevel: LogLevel.ERROR,
        format: OutputFormat.CJS,
        minify: true,
        sourceMap: true,
        // The SDK clients the code uses come from the Lambda runtime (they are always there):
        // bundling them would triple every bundle. The rest is bundled at the tested version.
        externalModules: [...RUNTIME_SDK_CLIENTS],
        // package.json's `version` is the only field the code reads (User-Agent).
        loader: { '.json': 'json' },
      },
    });
    const logGroupId = Stack.of(this).getLogicalId(logGroup.node.defaultChild as never);
    Validations.of(role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logGroupId}.Arn>:*]`,
      reason: "Log streams are created at run time inside the function's own log group.",
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments/PutTelemetryRecords, and in a VPC the network-interface actions Lambda needs, support no resource-level permissions.',
    });
  }
}
