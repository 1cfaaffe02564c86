// The one error catalogue. Every error a client can see has a stable `code`
// here; the HTTP layer maps it to RFC 9457 problem+json in one place
// (platform/http/problem.ts). Modules add codes here rather than inventing
// their own classes, so clients can rely on the list.

export const errorCatalogue = {
  // 400
  bad_request: { status: 400, title: 'Bad request' },
  validation_failed: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  invalid_cursor: { status: 400, title: 'The pagination cursor is not valid' },
  tenant_required: { status: 400, title: 'No tenant given: send the X-Tenant header' },
  invalid_email_token: { status: 400, title: 'The link is not valid, was already used or has expired' },
  // 401
  unauthenticated: { status: 401, title: 'Authentication required' },
  invalid_token: { status: 401, title: 'The access token is not valid' },
  invalid_credentials: { status: 401, title: 'Email or password is wrong' },
  invalid_refresh_token: { status: 401, title: 'The refresh token is not valid; log in again' },
  invalid_mfa_code: { status: 401, title: 'The MFA code or challenge is not valid' },
  mfa_code_required: { status: 401, title: 'This account has MFA: send a TOTP code or a recovery code too' },
  invalid_signature: { status: 401, title: 'The request signature is missing, stale or wrong' },
  // 403
  permission_denied: { status: 403, title: 'You do not have the permission this needs' },
  tenant_mismatch: { status: 403, title: 'The tenant of the request and of the token differ' },
  wrong_password: { status: 403, title: 'The current password is wrong' },
  mfa_enrollment_required: { status: 403, title: 'Enroll in MFA first' },
  tenant_suspended: { status: 403, title: 'This tenant is suspended' },
  // 404
  not_found: { status: 404, title: 'Not found' },
  route_not_found: { status: 404, title: 'No such route' },
  tenant_not_found: { status: 404, title: 'No such tenant' },
  // 405-415
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  mfa_already_enabled: { status: 409, title: 'MFA is already enabled; disable it first' },
  contact_email_taken: { status: 409, title: 'A contact with this email already exists' },
  company_domain_taken: { status: 409, title: 'A company with this domain already exists' },
  stage_in_use: { status: 409, title: 'Deals are still in this stage' },
  custom_field_key_taken: { status: 409, title: 'A custom field with this key already exists' },
  tenant_slug_taken: { status: 409, title: 'A tenant with this slug already exists' },
  email_already_verified: { status: 409, title: 'This email address is already verified' },
  already_member: { status: 409, title: 'This account is already a member of the tenant' },
  role_key_taken: { status: 409, title: 'A role with this key already exists' },
  role_protected: { status: 409, title: 'This role cannot be changed or deleted' },
  role_in_use: { status: 409, title: 'Members still have this role' },
  last_owner: { status: 409, title: 'A tenant keeps at least one owner' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  file_too_large: { status: 413, title: 'The file is larger than allowed' },
  storage_quota_exceeded: { status: 413, title: "The tenant's storage quota would be exceeded" },
  unsupported_media_type: { status: 415, title: 'Unsupported content type' },
  unsupported_file_type: { status: 415, title: 'This type of file is not accepted' },
  direct_upload_unavailable: { status: 409, title: 'Direct uploads need the S3 storage driver' },
  // 422
  invalid_reference: { status: 422, title: 'A referenced record does not exist' },
  hierarchy_cycle: { status: 422, title: 'This reporting line would make a cycle' },
  // 429
  rate_limited: { status: 429, title: 'Too many requests' },
  // 5xx
  internal_error: { status: 500, title: 'Internal server error' },
  integration_unavailable: { status: 502, title: 'The integrated service could not be reached' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
  tenant_schema_outdated: { status: 503, title: 'This tenant is being upgraded' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export interface FieldError {
  /** JSON pointer into the part of the request named by `in`. */
  pointer: string;
  in?: 'body' | 'query' | 'params' | 'headers';
  detail: string;
}

/** The only error type domain code throws for expected failures. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, detail?: string, extra: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(detail ?? errorCatalogue[code].title, { cause: extra.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.detail = detail;
    this.errors = extra.errors;
    this.headers = extra.headers;
  }
}

export const appError = (code: ErrorCode, detail?: string, extra?: ConstructorParameters<typeof AppError>[2]) =>
  new AppError(code, detail, extra);

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
