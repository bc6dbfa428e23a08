import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  CustomerManagedEncryptionConfiguration,
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ROOT } from '../functions';
import { nagArn } from '../nag';

export interface WorkflowProps {
  /** `statemachines/<file>.asl.json`, the single source of the definition. */
  file: string;
  /** Substitution key (`GetInfoFunctionArn`) → function. */
  functions: Record<string, IFunction>;
  topic: ITopic;
  /** The stack's event bus: lifecycle events go there (`${EventBusArn}` in the ASL). */
  eventBus: IEventBus;
  kmsKey?: IKey;
  /** Fixed, so that the lock functions' policy can name its executions without a reference to it. */
  stateMachineName: string;
  /** How long its execution logs are kept (they stay when the stack is destroyed). */
  logRetention: RetentionDays;
  /**
   * The workflows it starts as child executions (`states:startExecution.sync:2`), named in its ASL
   * as `${StateMachineArnPrefix}<workflow>`: the ARN of this stack's state machines without the name.
   */
  children?: Workflow[];
  stateMachineArnPrefix?: string;
}

/** A Standard state machine from its ASL file, with least-privilege invoke, logs, tracing and alarms. */
export class Workflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly stateMachineName: string;
  private readonly kmsKey?: IKey;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    this.stateMachineName = props.stateMachineName;
    this.kmsKey = props.kmsKey;
    const path = join(ROOT, 'statemachines', props.file);
    const used = [...new Set([...readFileSync(path, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
    const substitutions: Record<string, string> = {};
    const functionKeys = used.filter((key) => key !== 'StateMachineArnPrefix' && key !== 'EventBusArn');
    if (used.includes('EventBusArn')) substitutions.EventBusArn = props.eventBus.eventBusArn;
    if (used.includes('StateMachineArnPrefix')) {
      if (!props.stateMachineArnPrefix || !props.children?.length) {
        throw new Error(`${props.file} starts child executions: give the workflow its children and their ARN prefix`);
      }
      substitutions.StateMachineArnPrefix = props.stateMachineArnPrefix;
    }
    for (const key of functionKeys) {
      const fn = props.functions[key];
      if (!fn) throw new Error(`${props.file} refers to \${${key}}, which this stack does not create`);
      substitutions[key] = fn.functionArn;
    }
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: props.kmsKey,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromString(readFileSync(path, 'utf8')),
      definitionSubstitutions: substitutions,
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      // Execution data carries workflow state only (ids, statuses): still, keep it out of logs.
      logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      encryptionConfiguration: props.kmsKey ? new CustomerManagedEncryptionConfiguration(props.kmsKey) : undefined,
    });
    for (const key of functionKeys) {
      const fn = props.functions[key]!;
      fn.grantInvoke(this.stateMachine);
      const fnId = Stack.of(this).getLogicalId(fn.node.defaultChild as never);
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
        reason: "grantInvoke also covers the function's versions and aliases (<arn>:*), nothing else.",
      });
    }
    // Lifecycle events ("Firmware Upgrade Succeeded", ...) go to the stack's bus: only those its
    // ASL puts, so the state machine can never put a release event (which starts upgrades).
    const definition = JSON.parse(readFileSync(path, 'utf8')) as { States: Record<string, { Parameters?: unknown }> };
    const lifecycle = [
      ...new Set(
        Object.values(definition.States).flatMap((state) =>
          ((state.Parameters as { Entries?: Array<{ Source: string; DetailType: string }> })?.Entries ?? []).map(
            (e) => `${e.Source}\n${e.DetailType}`,
          ),
        ),
      ),
    ].map((pair) => pair.split('\n') as [string, string]);
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [props.eventBus.eventBusArn],
        conditions: {
          StringEquals: {
            'events:source': [...new Set(lifecycle.map(([source]) => source))],
            'events:detail-type': lifecycle.map(([, detailType]) => detailType),
          },
        },
      }),
    );
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray and CloudWatch Logs delivery actions of Step Functions do not support resource-level permissions.',
    });

    for (const child of props.children ?? []) this.grantRunChild(child);

    const alarm = (name: string, metric: Metric, what: string) =>
      new Alarm(this, name, {
        alarmDescription: `${id}: an execution ${what} (see the Step Functions console for its error and cause)`,
        metric: metric.with({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(props.topic));
    alarm('FailedAlarm', this.stateMachine.metricFailed(), 'failed');
    alarm('TimedOutAlarm', this.stateMachine.metricTimedOut(), 'timed out');
    alarm('AbortedAlarm', this.stateMachine.metricAborted(), 'was aborted');
  }

  /**
   * Lets `grantee` start an execution; under a customer key that also takes the key (the input is
   * encrypted with it), through Step Functions and for this state machine only.
   */
  grantStart(grantee: IGrantable): void {
    this.stateMachine.grantStartExecution(grantee);
    this.grantKey(grantee, ['kms:GenerateDataKey']);
  }

  private grantKey(grantee: IGrantable, actions: string[]): void {
    const key = this.kmsKey;
    if (!key) return;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions,
        resources: [key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `states.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:aws:states:stateMachineArn': this.stateMachine.stateMachineArn,
          },
        },
      }),
    );
  }

  /**
   * What `states:startExecution.sync:2` needs for a child: start it, follow it (Step Functions
   * polls DescribeExecution and listens through its own managed rule), stop it when this one stops.
   */
  private grantRunChild(child: Workflow): void {
    const stack = Stack.of(this);
    child.stateMachine.grantStartExecution(this.stateMachine);
    child.grantKey(this.stateMachine, ['kms:GenerateDataKey', 'kms:Decrypt']);
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${child.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }),
    );
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [
          stack.formatArn({
            service: 'events',
            resource: 'rule',
            resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
          }),
        ],
      }),
    );
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagArn(this, 'states', `execution:${child.stateMachineName}:*`)}]`,
      reason: "A fleet run follows and stops its own children: executions of this stack's child workflow only.",
    });
  }
}
