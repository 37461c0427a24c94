import { HttpException } from '@nestjs/common';
import { ForbiddenError as CaslForbiddenError } from '@casl/ability';
import { DomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

/** What a client is told about a failure: never a stack trace, never an internal message. */
export interface ClientError {
  kind: ErrorKind;
  /** Precise, stable reason (a module error code), for clients to switch on. */
  reason: string;
  message: string;
  details?: Record<string, unknown>;
}

const kindByStatus: Record<number, ErrorKind> = {
  400: ErrorKind.BAD_USER_INPUT,
  401: ErrorKind.UNAUTHENTICATED,
  403: ErrorKind.FORBIDDEN,
  404: ErrorKind.NOT_FOUND,
  409: ErrorKind.CONFLICT,
  413: ErrorKind.PAYLOAD_TOO_LARGE,
  415: ErrorKind.UNSUPPORTED_MEDIA_TYPE,
  429: ErrorKind.TOO_MANY_REQUESTS,
  503: ErrorKind.UNAVAILABLE,
};

const isDomainError = (err: unknown): err is DomainError<string> => err instanceof DomainError;

/**
 * Errors from reading a request body (body-parser, raw-body, zlib through http-errors): a 4xx `status`, `expose`
 * set because the fault is the client's, and usually a `type` (none for a corrupt compressed body).
 */
interface BodyReadError {
  status: number;
  type?: string;
  limit?: number;
  charset?: string;
  encoding?: string;
}

function isBodyReadError(err: unknown): err is BodyReadError {
  return (
    typeof err === 'object' &&
    err !== null &&
    'status' in err &&
    typeof err.status === 'number' &&
    'expose' in err &&
    err.expose === true
  );
}

/** A client-supplied name echoed in a message, kept short. */
const quoted = (value: string | undefined) => JSON.stringify((value ?? '').slice(0, 40));

function bodyReadClientError(err: BodyReadError): ClientError | undefined {
  switch (err.type ?? '') {
    case 'entity.too.large':
      return {
        kind: ErrorKind.PAYLOAD_TOO_LARGE,
        reason: 'REQUEST_TOO_LARGE',
        message: `Request body exceeds the limit of ${err.limit ?? '?'} bytes`,
      };
    case 'entity.parse.failed':
      return {
        kind: ErrorKind.BAD_USER_INPUT,
        reason: 'MALFORMED_JSON',
        message: 'Request body is not valid JSON',
      };
    case 'charset.unsupported':
      return {
        kind: ErrorKind.UNSUPPORTED_MEDIA_TYPE,
        reason: 'UNSUPPORTED_CHARSET',
        message: `Request body charset ${quoted(err.charset)} is not supported; send UTF-8`,
      };
    case 'encoding.unsupported':
      return {
        kind: ErrorKind.UNSUPPORTED_MEDIA_TYPE,
        reason: 'UNSUPPORTED_CONTENT_ENCODING',
        message: `Content-Encoding ${quoted(err.encoding)} is not supported; send identity, gzip, deflate or br`,
      };
    default: {
      const kind = kindByStatus[err.status];
      if (!kind) return undefined;
      return {
        kind,
        reason: 'UNREADABLE_BODY',
        message: 'Request body could not be read (corrupt compressed data or an interrupted upload)',
      };
    }
  }
}

/**
 * The one place that turns an exception into what the client sees. Returns `undefined` for anything
 * unexpected: the caller logs it and answers INTERNAL_SERVER_ERROR with a correlation id.
 */
export function toClientError(err: unknown): ClientError | undefined {
  if (isDomainError(err)) {
    return { kind: err.kind, reason: err.code, message: err.message, details: err.details };
  }
  if (err instanceof CaslForbiddenError) {
    return {
      kind: ErrorKind.FORBIDDEN,
      reason: 'ACCESS_DENIED',
      message: `Not allowed to ${err.action} ${err.subjectType}`,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const kind = kindByStatus[status];
    if (!kind) return undefined;
    const body = err.getResponse();
    const messages: unknown =
      typeof body === 'object' && body !== null && 'message' in body ? body.message : err.message;
    if (Array.isArray(messages)) {
      return {
        kind,
        reason: 'VALIDATION_FAILED',
        message: `Invalid input: ${messages.join('; ')}`,
        details: { problems: messages },
      };
    }
    return { kind, reason: kind, message: String(messages) };
  }
  if (isBodyReadError(err)) return bodyReadClientError(err);
  return undefined;
}
