import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthError, AuthErrorCode } from 'src/auth/auth.errors';
import {
  AUDITED_KEY,
  GENERATION_LIMITED_KEY,
  POLICY_KEY,
  PUBLIC_KEY,
  RequiredPolicy,
} from 'src/auth/auth.decorators';
import { KeyLimitsService } from 'src/auth/key-limits.service';
import { PrincipalsService } from 'src/auth/principals.service';
import { AppRequest, requestIdOf, requestOf } from 'src/common/request-of';

/**
 * The root fields a GraphQL operation asks for, each name once, with how many times it was asked (aliases and
 * fragments included).
 */
export function rootFieldsOf(
  info: Pick<GraphQLResolveInfo, 'operation' | 'fragments'>,
): Record<string, number> {
  const counts: Record<string, number> = {};
  const visited = new Set<string>();
  const walk = (set: SelectionSetNode | undefined) => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === Kind.FIELD) counts[sel.name.value] = (counts[sel.name.value] ?? 0) + 1;
      else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
      else if (!visited.has(sel.name.value)) {
        visited.add(sel.name.value);
        walk(info.fragments[sel.name.value]?.selectionSet);
      }
    }
  };
  walk(info.operation.selectionSet);
  return counts;
}

/**
 * Authenticates the bearer API key, takes the request from the key's `calls` rate limit, and checks the
 * handler's policy against the caller's CASL ability. Deny by default: a handler with neither @Public nor
 * @CheckPolicy is refused for everyone.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /** Each denied request's one audit record (a GraphQL request reaches the guard once per field). */
  private readonly denials = new WeakMap<AppRequest, Promise<unknown>>();
  /** Each request's one take from its key's `calls` bucket, shared by every field of a GraphQL operation. */
  private readonly calls = new WeakMap<AppRequest, Promise<void>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly principals: PrincipalsService,
    private readonly audit: AuditService,
    private readonly limits: KeyLimitsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;

    const req = requestOf(context);
    const header = req.headers.authorization ?? '';
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!token) {
      throw new AuthError(
        AuthErrorCode.MISSING_CREDENTIALS,
        'Send an API key as "Authorization: Bearer <key>"',
      );
    }
    const auth = await this.principals.authenticate(token, requestIdOf(req));
    req.auth = auth;

    // One take per request, before its policy is checked or a resolver runs: an operation counts once however
    // many fields or aliases it has (each field reaches the guard and waits for the same take), and a refused
    // request writes no audit event. Generation takes from its own bucket, in ServingService.
    if (!this.reflector.get<boolean | undefined>(GENERATION_LIMITED_KEY, context.getHandler())) {
      let call = this.calls.get(req);
      if (!call) {
        call = this.limits.takeCall(auth);
        this.calls.set(req, call);
      }
      await call;
    }

    const operation = this.operationName(context);
    const policy = this.reflector.get<RequiredPolicy | undefined>(POLICY_KEY, context.getHandler());
    if (!policy || !auth.ability.can(policy.action, policy.subject)) {
      // One event per request: an operation that asks for a denied field under many aliases is audited once,
      // and each denied field waits for that one record, so the answer never goes out before it.
      let denial = this.denials.get(req);
      if (!denial) {
        denial = this.audit.record(auth.actor, {
          action: AuditAction.ACCESS_DENIED,
          subjectType: policy?.subject ?? 'Operation',
          after: {
            operation,
            action: policy?.action ?? null,
            role: auth.principal.role,
            fields: this.requestedFields(context, operation),
          },
        });
        this.denials.set(req, denial);
      }
      await denial;
      throw policy
        ? new AuthError(
            AuthErrorCode.ACCESS_DENIED,
            `Role ${auth.principal.role} may not ${policy.action} ${policy.subject}`,
          )
        : new AuthError(AuthErrorCode.NO_POLICY, `${operation} has no access policy and is denied`);
    }
    const audited = this.reflector.get<AuditAction | undefined>(AUDITED_KEY, context.getHandler());
    if (audited) {
      await this.audit.record(auth.actor, {
        action: audited,
        subjectType: policy.subject,
        after: { operation },
      });
    }
    return true;
  }

  /** What the request asked for: a GraphQL operation's root fields and their counts, else the one handler. */
  private requestedFields(context: ExecutionContext, operation: string): Record<string, number> {
    if (context.getType<string>() !== 'graphql') return { [operation]: 1 };
    return rootFieldsOf(GqlExecutionContext.create(context).getInfo<GraphQLResolveInfo>());
  }

  private operationName(context: ExecutionContext): string {
    if (context.getType<string>() === 'graphql') {
      return GqlExecutionContext.create(context).getInfo<{ fieldName: string }>().fieldName;
    }
    return `${context.getClass().name}.${context.getHandler().name}`;
  }
}
