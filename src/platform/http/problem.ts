// The one place errors become RFC 9457 problem+json. Domain code throws
// `AppError` with a catalogue code; framework and driver errors that a client
// can cause are translated here, so bad input never surfaces as a 500.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errorCatalogue, type ErrorCode, type FieldError } from '../errors.ts';
import { isDataException } from '../db/pg-errors.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  requestId: string;
  errors?: FieldError[];
}

export const problemType = (code: ErrorCode) => `urn:plinth:problem:${code}`;

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_INVALID_CONTENT_TYPE: 'unsupported_media_type',
};

const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthenticated',
  403: 'permission_denied',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

const LOCATIONS: Record<string, FieldError['in']> = { body: 'body', querystring: 'query', params: 'params', headers: 'headers' };

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Ajv errors → JSON pointers at the offending field (missing and extra properties included). */
export function fieldErrors(validation: AjvError[], context: string | undefined): FieldError[] {
  const where = LOCATIONS[context ?? 'body'];
  const seen = new Set<string>();
  const out: FieldError[] = [];
  // A nullable field that fails reports its real problem plus "must be null"
  // and "must match a schema in anyOf": keep only the real one.
  const pathsWithRealErrors = new Set(
    validation.filter((e) => e.keyword !== 'anyOf' && !(e.keyword === 'type' && e.params.type === 'null')).map((e) => e.instancePath),
  );
  for (const e of validation) {
    const noise = e.keyword === 'anyOf' || (e.keyword === 'type' && e.params.type === 'null');
    if (noise && pathsWithRealErrors.has(e.instancePath)) continue;
    let pointer = e.instancePath || '';
    let detail = e.message ?? 'is not valid';
    if (e.keyword === 'required' && typeof e.params.missingProperty === 'string') {
      pointer = `${pointer}/${e.params.missingProperty}`;
      detail = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof e.params.additionalProperty === 'string') {
      pointer = `${pointer}/${e.params.additionalProperty}`;
      detail = 'is not an accepted field';
    }
    const key = `${pointer}|${detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ in: where, pointer: pointer || '/', detail });
  }
  return out;
}

function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    const errors = fieldErrors(fe.validation, fe.validationContext);
    const first = errors[0];
    return new AppError('validation_failed', first ? `${first.in ?? 'body'} ${first.pointer} ${first.detail}` : undefined, { errors, cause: error });
  }
  if (fe.code && FRAMEWORK_CODES[fe.code]) return new AppError(FRAMEWORK_CODES[fe.code]!, fe.message, { cause: error });
  if (error instanceof SyntaxError && fe.statusCode === 400) return new AppError('malformed_json', error.message, { cause: error });
  // Safety net: a value PostgreSQL refused (out of range, bad encoding) is the
  // client's input, not our failure.
  if (isDataException(error)) return new AppError('bad_request', 'A value in the request is out of range or malformed', { cause: error });
  const status = fe.statusCode ?? 500;
  if (status >= 400 && status < 500) return new AppError(STATUS_CODES[status] ?? 'bad_request', fe.message, { cause: error });
  if (status === 503) return new AppError('service_unavailable', undefined, { cause: error });
  return new AppError('internal_error', undefined, { cause: error });
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const problem: Problem = {
    type: problemType(error.code),
    title: errorCatalogue[error.code].title,
    status: error.status,
    code: error.code,
    ...(error.detail ? { detail: error.detail } : {}),
    instance: request.url.split('?')[0],
    requestId: request.id,
    ...(error.errors ? { errors: error.errors } : {}),
  };
  if (error.headers) reply.headers(error.headers);
  return reply.code(error.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem));
}

export function registerProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    if (appError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, new AppError('route_not_found', `${request.method} ${request.url.split('?')[0]} is not a route of this API`)),
  );
}
