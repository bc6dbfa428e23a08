/**
 * Settings every AWS SDK client of the functions shares: a blocked path (a VPC without the
 * endpoint or NAT it needs, a stalled connection) fails fast with a named error that the SDK's own
 * retries and the workflow's catch handle, instead of running into the function's timeout.
 */
export const AWS_CLIENT_SETTINGS = {
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000 },
} as const;
