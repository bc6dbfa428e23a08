/**
 * Every error name a workflow can end with: the public contract (README, "Errors"). Lambda reports
 * `error.name` as the error type, so these are what Step Functions Retry/Catch match on; a test
 * checks every `ErrorEquals` in the ASL and every row of the README's table against this list.
 */
export const ERROR_NAMES = [
  'Input.Invalid',
  'Sps.AuthenticationFailed',
  'Sps.TlsError',
  'Sps.NoEmptySlot',
  'Sps.FetchFailed',
  'Sps.PrecheckFailed',
  'Sps.PreflightFailed',
  'Sps.PostcheckFailed',
  'Sps.VersionMismatch',
  'Sps.UpgradeReverted',
  'Sps.Timeout',
  'Sps.Busy',
  'Sps.BundleFailed',
  'S3.ArchiveFailed',
  'S3.ArchiveRejected',
  'Sps.ConnectionError',
  'Sps.ServerError',
  'Sps.RequestTimeout',
  'Sps.Unauthenticated',
  'Sps.Forbidden',
  'Sps.NotFound',
  'Sps.IncompleteRequestBody',
  'Sps.InvalidResponse',
  'Sps.ApiError',
  'Secrets.NotFound',
  'Secrets.Invalid',
  'Secrets.AccessDenied',
  'Secrets.Unavailable',
  'Fleet.ChildrenFailed',
  'Fleet.NotRegistered',
  'Fleet.IncompleteCluster',
  'Fleet.InventoryFailed',
  'Fleet.StageFailed',
  'Fleet.Rejected',
  'Fleet.ApprovalTimeout',
  'Fleet.ErrorBudgetExceeded',
  'Internal.Error',
] as const;
export type ErrorName = (typeof ERROR_NAMES)[number];

const CONTRACT = new Set<string>(ERROR_NAMES);
/** Whether an error carries one of the contract's names (else it leaves a handler as `Internal.Error`). */
export const isContractError = (err: unknown): err is NamedError => err instanceof Error && CONTRACT.has(err.name);

/**
 * Every error that leaves a handler is one of these. Messages never carry credentials,
 * Authorization headers or session ids: they are built only from method, path, status and the
 * appliance's own error text.
 */
export class NamedError extends Error {
  declare name: ErrorName;
  constructor(name: ErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

/** `Name: message` of an error, or its text when it is not one. */
export const errorText = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** The SPS error envelope: `{"error": {"type", "message", "details"}}`. */
export interface SpsErrorEnvelope {
  type: string;
  message?: string;
  details?: unknown;
}

/** SPS answered with an error status. Keeps the envelope's `type`, `message` and `details`. */
export class SpsApiError extends NamedError {
  readonly status: number;
  readonly type: string | undefined;
  readonly details: unknown;
  readonly method: string;
  readonly path: string;

  constructor(
    init: { status: number; method: string; path: string; envelope?: SpsErrorEnvelope; text?: string },
    name: ErrorName = 'Sps.ApiError',
  ) {
    const what = init.envelope
      ? `${init.envelope.type}${init.envelope.message ? `: ${init.envelope.message}` : ''}`
      : `HTTP ${init.status}${init.text ? `: ${init.text}` : ''}`;
    super(name, `${init.method} ${init.path} failed (${init.status}) ${what}`);
    this.status = init.status;
    this.type = init.envelope?.type;
    this.details = init.envelope?.details;
    this.method = init.method;
    this.path = init.path;
  }
}

/** 401 on a call after re-login was already tried once. */
export class SpsUnauthenticatedError extends SpsApiError {
  constructor(init: ConstructorParameters<typeof SpsApiError>[0]) {
    super(init, 'Sps.Unauthenticated');
  }
}

/** `ResourceNotFound` / `NotFound` / 404. */
export class SpsNotFoundError extends SpsApiError {
  constructor(init: ConstructorParameters<typeof SpsApiError>[0]) {
    super(init, 'Sps.NotFound');
  }
}

/** `IncompleteRequestBodyError`: `details.missing_paths` names what was missing. */
export class SpsIncompleteRequestError extends SpsApiError {
  readonly missingPaths: string[];
  constructor(init: ConstructorParameters<typeof SpsApiError>[0]) {
    super(init, 'Sps.IncompleteRequestBody');
    const paths = (init.envelope?.details as { missing_paths?: unknown } | undefined)?.missing_paths;
    this.missingPaths = Array.isArray(paths) ? paths.map(String) : [];
  }
}

/** `FirmwareTestFailed` from `/firmware/test` or `/firmware/upgrade`: the appliance's own verdict. */
export class SpsPrecheckFailedError extends SpsApiError {
  readonly testSummary: string;
  readonly exitCode: number | undefined;
  constructor(init: ConstructorParameters<typeof SpsApiError>[0]) {
    super(init, 'Sps.PrecheckFailed');
    const details = (init.envelope?.details ?? {}) as { test_summary?: unknown; exit_code?: unknown };
    this.testSummary = typeof details.test_summary === 'string' ? details.test_summary : '';
    this.exitCode = typeof details.exit_code === 'number' ? details.exit_code : undefined;
    this.message = `Firmware precheck failed${this.exitCode === undefined ? '' : ` (exit code ${this.exitCode})`}: ${
      this.testSummary || init.envelope?.message || 'no summary'
    }`;
  }
}

/** 403: missing privilege, or the X-Token check for browser-like clients. */
export class SpsForbiddenError extends SpsApiError {
  constructor(init: ConstructorParameters<typeof SpsApiError>[0]) {
    super(init, 'Sps.Forbidden');
  }
}

/** 429 or 5xx (often an HTML page from the appliance's web server). */
export class SpsServerError extends SpsApiError {
  constructor(init: ConstructorParameters<typeof SpsApiError>[0]) {
    super(init, 'Sps.ServerError');
  }
}

/** Wrong credentials, a login method the appliance refuses, or no session cookie in the answer. */
export class SpsAuthenticationError extends NamedError {
  constructor(message: string) {
    super('Sps.AuthenticationFailed', message);
  }
}

/** The appliance's certificate could not be trusted; `reason` says why. */
export class SpsTlsError extends NamedError {
  constructor(
    readonly reason: 'untrusted-issuer' | 'hostname-mismatch' | 'expired' | 'not-yet-valid' | 'other',
    message: string,
    readonly code?: string,
  ) {
    super('Sps.TlsError', message);
  }
}

/** The connection failed or broke (refused, reset, closed early). Expected while an appliance reboots. */
export class SpsConnectionError extends NamedError {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super('Sps.ConnectionError', message);
  }
}

/** One request exceeded its connect, headers or body timeout. */
export class SpsRequestTimeoutError extends NamedError {
  constructor(
    readonly phase: 'connect' | 'headers' | 'body',
    message: string,
  ) {
    super('Sps.RequestTimeout', message);
  }
}

/** The appliance answered 2xx with a body this client does not understand. */
export class SpsInvalidResponseError extends NamedError {
  constructor(message: string) {
    super('Sps.InvalidResponse', message);
  }
}
