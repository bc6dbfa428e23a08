import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { applianceReferenceSchema } from '../lambdas/shared/input';

/*
 * The deployment configuration: read once at the top of the app, from the cdk.json context key
 * `spsWorkflows` (an object) or from the JSON file named by the context key `configFile`.
 */

/** The retention periods CloudWatch Logs accepts. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export const deploymentConfigSchema = z
  .strictObject({
    /**
     * The appliances the nightly archival covers, when not every registered one (the default, and
     * the way to scale: the registry is the credentials secrets under `credentialsSecretPrefix`).
     * Each is an appliance reference exactly as a workflow input names it.
     */
    appliances: z.array(applianceReferenceSchema).default([]),
    /** Secrets of appliances passed at run time (console) must live under this name prefix. */
    credentialsSecretPrefix: z.string().min(1).endsWith('/').default('sps/'),
    archive: z
      .strictObject({
        /** EventBridge Scheduler expression for the nightly archival of every appliance. */
        schedule: z
          .string()
          .regex(/^(cron|rate|at)\(.+\)$/, 'cron(...), rate(...) or at(...)')
          .default('cron(0 2 * * ? *)'),
        timeZone: z.string().min(1).default('UTC'),
        prefix: z
          .string()
          .regex(/^(|[^/].*\/)$/, 'empty or ending with "/"')
          .default('support-bundles/'),
        coldStorageDays: z.number().int().min(1).default(30),
        expireDays: z.number().int().min(1).default(365),
        /**
         * Appliances archived at once: the night's run takes about appliances × bundle time ÷ this,
         * and uses at most this many Lambda invocations at a time.
         */
        maxConcurrency: z.number().int().min(1).max(40).default(10),
      })
      .refine((a) => a.expireDays > a.coldStorageDays, {
        message: 'expireDays must be after coldStorageDays',
        path: ['expireDays'],
      })
      .default({
        schedule: 'cron(0 2 * * ? *)',
        timeZone: 'UTC',
        prefix: 'support-bundles/',
        coldStorageDays: 30,
        expireDays: 365,
        maxConcurrency: 10,
      }),
    /**
     * The weekly readiness check: one fleet run of the preflight over every registered appliance,
     * its report stored under `reports/preflight/` in the archive bucket. Off when absent.
     */
    preflight: z
      .strictObject({
        schedule: z.string().regex(/^(cron|rate|at)\(.+\)$/, 'cron(...), rate(...) or at(...)'),
        timeZone: z.string().min(1).default('UTC'),
        maxConcurrency: z.number().int().min(1).max(40).default(10),
        /** The release the readiness is checked for (the plugin checks need it); none: they report unknown. */
        targetVersion: z.string().min(1).optional(),
      })
      .optional(),
    /**
     * The stack's own event bus: release events come in, lifecycle events go out. Only the
     * `publishers` (IAM principal ARNs: a release pipeline's role) may put events on it, besides
     * the stack's own state machines; everyone else is denied.
     */
    events: z
      .strictObject({
        busName: z
          .string()
          .regex(/^[A-Za-z0-9._-]{1,256}$/, 'an event bus name')
          .refine((n) => n !== 'default', 'not the default bus')
          .default('sps-workflows'),
        publishers: z
          .array(z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+/, 'an IAM principal ARN'))
          .default([]),
      })
      .default({ busName: 'sps-workflows', publishers: [] }),
    /** SPS sits on private networks: the functions run in these subnets. */
    network: z
      .strictObject({
        vpcId: z.string().regex(/^vpc-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a VPC id (vpc-…)'),
        subnetIds: z.array(z.string().regex(/^subnet-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a subnet id (subnet-…)')).min(1),
        securityGroupIds: z
          .array(z.string().regex(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a security group id (sg-…)'))
          .min(1),
        /**
         * VPC endpoints for the AWS APIs the functions call, for subnets without a NAT: interface
         * endpoints for Secrets Manager and Step Functions in `subnetIds`, gateway endpoints for
         * S3 and DynamoDB in `routeTableIds` (the route tables of those subnets).
         */
        createEndpoints: z
          .strictObject({
            routeTableIds: z
              .array(z.string().regex(/^rtb-[0-9a-f]{8}([0-9a-f]{9})?$/, 'a route table id (rtb-…)'))
              .min(1),
          })
          .optional(),
      })
      .optional(),
    notifications: z
      .strictObject({ email: z.email().optional(), topicArn: z.string().startsWith('arn:').optional() })
      .refine((n) => !(n.email && n.topicArn), 'set email or topicArn, not both')
      .default({}),
    /**
     * How long the functions' and state machines' logs are kept, in days (a CloudWatch Logs
     * retention value). An audit trail of a privileged-access fleet: a year by default.
     */
    logRetentionDays: z
      .number()
      .refine((d) => LOG_RETENTION_DAYS.includes(d), `one of ${LOG_RETENTION_DAYS.join(', ')}`)
      .default(365),
    /** Customer-managed KMS key for the state machines (and their logs). */
    kmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:/)
      .optional(),
  })
  .superRefine((c, ctx) => {
    c.appliances.forEach((a, i) => {
      if (a.credentialsSecretId !== undefined && !/^[A-Za-z0-9/_+=.@-]+$/.test(a.credentialsSecretId))
        ctx.addIssue({
          code: 'custom',
          path: ['appliances', i, 'credentialsSecretId'],
          message: 'a Secrets Manager secret name (not an ARN)',
        });
    });
    const names = c.appliances.map((a) => a.name);
    names.forEach((name, i) => {
      if (names.indexOf(name) !== i)
        ctx.addIssue({ code: 'custom', path: ['appliances', i, 'name'], message: `duplicate appliance name ${name}` });
    });
  });
export type DeploymentConfig = z.output<typeof deploymentConfigSchema>;

export class ConfigError extends Error {}

/** Parses a config object, with one line per bad field. */
export function parseConfig(raw: unknown, source = 'config'): DeploymentConfig {
  const result = deploymentConfigSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new ConfigError(`Invalid deployment ${source}:\n${problems.join('\n')}`);
}

/** Reads the configuration from CDK context: `spsWorkflows` (object) or `configFile` (path). */
export function configFromContext(tryGetContext: (key: string) => unknown): DeploymentConfig {
  const file = tryGetContext('configFile');
  if (typeof file === 'string' && file) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new ConfigError(`Cannot read deployment config file ${file}: ${(err as Error).message}`);
    }
    return parseConfig(raw, `config file ${file}`);
  }
  return parseConfig(tryGetContext('spsWorkflows'), 'context "spsWorkflows"');
}
