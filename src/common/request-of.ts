import { ExecutionContext } from '@nestjs/common';
import { GqlContextType, GqlExecutionContext } from '@nestjs/graphql';
import type { Request } from 'express';
import type { AuthContext } from 'src/auth/auth-context';

/** The Express request with what sealgate attaches to it. `id` is set by the request logger. */
export type AppRequest = Request & { id?: string | number; auth?: AuthContext };

export function requestOf(context: ExecutionContext): AppRequest {
  if (context.getType<GqlContextType>() === 'graphql') {
    return GqlExecutionContext.create(context).getContext<{ req: AppRequest }>().req;
  }
  return context.switchToHttp().getRequest<AppRequest>();
}

export function requestIdOf(req: AppRequest | undefined): string | undefined {
  return req?.id === undefined ? undefined : String(req.id);
}
