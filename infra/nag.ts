import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * An ARN as cdk-nag writes it in a finding's id: pseudo-parameters it cannot resolve appear as
 * `<AWS::Partition>`, `<AWS::Region>`, `<AWS::AccountId>`, the ones a concrete environment sets as
 * their values. Acknowledgements built with it match in every environment.
 */
export function nagArn(scope: IConstruct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  const shown = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value);
  return `arn:${shown(stack.partition, 'Partition')}:${service}:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:${resource}`;
}
