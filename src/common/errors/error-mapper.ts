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
  429: ErrorKind.TOO_MANY_REQUESTS,
  503: ErrorKind.UNAVAILABLE,
};

/** Body-parser errors carry `type` and `status` but are not HttpExceptions. */
interface BodyParserError {
  type: string;
  status: number;
  limit?: number;
}
const isDomainError = (err: unknown): err is DomainError<string> => err instanceof DomainError;

function isBodyParserError(err: unknown): err is BodyParserError {
  return typeof err === 'object' && err !== null && 'type' in err && 'status' in err;
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
  if (isBodyParserError(err)) {
    if (err.type === 'entity.too.large') {
      return {
        kind: ErrorKind.PAYLOAD_TOO_LARGE,
        reason: 'REQUEST_TOO_LARGE',
        message: `Request body exceeds the limit of ${err.limit ?? '?'} bytes`,
      };
    }
    if (err.type === 'entity.parse.failed') {
      return {
        kind: ErrorKind.BAD_USER_INPUT,
        reason: 'MALFORMED_JSON',
        message: 'Request body is not valid JSON',
      };
    }
    const kind = kindByStatus[err.status];
    if (kind) return { kind, reason: err.type, message: `Request rejected: ${err.type}` };
  }
  return undefined;
}
