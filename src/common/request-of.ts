import { ExecutionContext } from '@nestjs/common';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';

/**
 * The Express request with what sealgate attaches to it. `id` is set by the request logger, `auth` by the auth
 * guard (an AuthContext; typed there, as `AuthedRequest`, since auth sits above this folder).
 */
export type AppRequest<Auth = unknown> = Request & { id?: string | number; auth?: Auth };

export function requestOf<Auth = unknown>(context: ExecutionContext): AppRequest<Auth> {
  if (context.getType<GqlContextType>() === 'graphql') {
    return GqlExecutionContext.create(context).getContext<{ req: AppRequest<Auth> }>().req;
  }
  return context.switchToHttp().getRequest<AppRequest<Auth>>();
}

export function requestIdOf(req: AppRequest | undefined): string | undefined {
  return req?.id === undefined ? undefined : String(req.id);
}
