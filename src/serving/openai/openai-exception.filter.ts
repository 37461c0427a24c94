import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { clientErrorFor, setRetryAfter } from 'src/common/errors/all-exceptions.filter';
import { ClientError } from 'src/common/errors/error-mapper';
import { ErrorKind, httpStatusOf } from 'src/common/errors/error-kind';
import { AppRequest, requestIdOf } from 'src/common/request-of';

/** OpenAI's error `type` for each kind of failure. */
const openAiType: Record<ErrorKind, string> = {
  [ErrorKind.BAD_USER_INPUT]: 'invalid_request_error',
  [ErrorKind.UNAUTHENTICATED]: 'authentication_error',
  [ErrorKind.FORBIDDEN]: 'permission_error',
  [ErrorKind.NOT_FOUND]: 'not_found_error',
  [ErrorKind.CONFLICT]: 'invalid_request_error',
  [ErrorKind.PAYLOAD_TOO_LARGE]: 'invalid_request_error',
  [ErrorKind.UNSUPPORTED_MEDIA_TYPE]: 'invalid_request_error',
  [ErrorKind.QUERY_TOO_COMPLEX]: 'invalid_request_error',
  [ErrorKind.TOO_MANY_REQUESTS]: 'rate_limit_error',
  [ErrorKind.UNAVAILABLE]: 'server_error',
  [ErrorKind.INTERNAL_SERVER_ERROR]: 'server_error',
};

/** OpenAI's error JSON: `{"error": {"message", "type", "param", "code"}}`, with the request id to quote. */
export function openAiErrorJson(error: ClientError, requestId: string | undefined) {
  const param = typeof error.details?.param === 'string' ? error.details.param : null;
  return {
    error: {
      message: error.message,
      type: openAiType[error.kind],
      param,
      code: error.reason,
      details: error.details,
      request_id: requestId,
    },
  };
}

/**
 * Errors of the OpenAI-compatible routes in OpenAI's shape, through the same mapper as everything else. A
 * 429 carries Retry-After. Once a stream has started, the error goes out as a last event, as OpenAI does.
 */
@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<AppRequest>();
    const res = http.getResponse<Response>();
    const requestId = requestIdOf(req);
    const error = clientErrorFor(exception, requestId);
    const body = openAiErrorJson(error, requestId);
    if (res.headersSent) {
      if (!res.writableEnded) res.end(`data: ${JSON.stringify(body)}\n\ndata: [DONE]\n\n`);
      return;
    }
    setRetryAfter(res, error);
    res.status(httpStatusOf[error.kind]).json(body);
  }
}
