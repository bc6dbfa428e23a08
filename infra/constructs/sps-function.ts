import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { handlerEntry, ROOT, type FunctionSpec } from '../functions';

export interface SpsFunctionProps {
  spec: FunctionSpec;
  environment: Record<string, string>;
  vpc?: ec2.IVpc;
  subnets?: ec2.SubnetSelection;
  securityGroups?: ec2.ISecurityGroup[];
}

/** Every function's defaults in one place: runtime, arm64, bundling, logs, tracing. */
export class SpsFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: SpsFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new NodejsFunction(this, 'Function', {
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
        target: 'node22',
        format: OutputFormat.CJS,
        minify: true,
        sourceMap: true,
        // Pin the SDK version we test with rather than the runtime's.
        bundleAwsSDK: true,
        // package.json's `version` is the only field the code reads (User-Agent).
        loader: { '.json': 'json' },
      },
    });
  }
}
