import { randomUUID } from 'node:crypto';
import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { GqlArgumentsHost, GqlContextType } from '@nestjs/graphql';
import type { NextFunction, Response } from 'express';
import { GraphQLError } from 'graphql';
import { ClientError, toClientError } from 'src/common/errors/error-mapper';
import { ErrorKind, httpStatusOf } from 'src/common/errors/error-kind';
import { AppRequest, requestIdOf } from 'src/common/request-of';

const logger = new Logger('Errors');

/** Maps an exception for the client; an unexpected one is logged in full and answered with a correlation id only. */
export function clientErrorFor(exception: unknown, requestId: string | undefined): ClientError {
  const known = toClientError(exception);
  if (known) return known;
  logger.error({ err: exception, requestId }, 'unexpected error');
  return {
    kind: ErrorKind.INTERNAL_SERVER_ERROR,
    reason: ErrorKind.INTERNAL_SERVER_ERROR,
    message: `Internal error; quote correlation id ${requestId ?? 'unknown'} when reporting it`,
  };
}

/**
 * A refusal that says when to come back (details.retryAfterSeconds: a rate limit, an overloaded model) carries
 * Retry-After on HTTP, GraphQL included; over a socket there is no header to carry it, only the details.
 */
export function setRetryAfter(res: Response | undefined, error: ClientError): void {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number' && res && !res.headersSent)
    res.setHeader('Retry-After', String(retryAfter));
}

export function graphqlErrorBody(error: ClientError, requestId: string | undefined) {
  return {
    errors: [
      {
        message: error.message,
        extensions: { code: error.kind, reason: error.reason, details: error.details, requestId },
      },
    ],
  };
}

/** Every exception from a resolver or controller passes here; nothing reaches a client unmapped. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType<GqlContextType>() === 'graphql') {
      if (exception instanceof GraphQLError) return exception;
      const { req, res } = GqlArgumentsHost.create(host).getContext<{ req?: AppRequest; res?: Response }>();
      const requestId = requestIdOf(req);
      const error = clientErrorFor(exception, requestId);
      setRetryAfter(res, error);
      return new GraphQLError(error.message, {
        extensions: { code: error.kind, reason: error.reason, details: error.details, requestId },
      });
    }
    const http = host.switchToHttp();
    const req = http.getRequest<AppRequest>();
    const requestId = requestIdOf(req);
    const error = clientErrorFor(exception, requestId);
    const res = http.getResponse<Response>();
    setRetryAfter(res, error);
    res.status(httpStatusOf[error.kind]).json({
      error: {
        code: error.kind,
        reason: error.reason,
        message: error.message,
        details: error.details,
        requestId,
      },
    });
  }
}

/**
 * Express error middleware for failures before Nest routing (body too large, malformed JSON). On /graphql the
 * answer has the GraphQL error shape so GraphQL clients can read it.
 */
export function transportErrorHandler(
  err: unknown,
  req: AppRequest,
  res: Response,
  next: NextFunction,
): void {
  if (res.headersSent) return next(err);
  // Body parsing fails before the request logger has assigned an id; give the client one to quote anyway.
  const requestId = requestIdOf(req) ?? randomUUID();
  res.setHeader('X-Request-Id', requestId);
  const error = clientErrorFor(err, requestId);
  const status = httpStatusOf[error.kind];
  if (req.path.startsWith('/graphql')) {
    res.status(status).json(graphqlErrorBody(error, requestId));
  } else {
    res
      .status(status)
      .json({ error: { code: error.kind, reason: error.reason, message: error.message, requestId } });
  }
}
