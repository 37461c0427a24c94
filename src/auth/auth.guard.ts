import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AuditService } from 'src/audit/audit.service';
import { AuthError, AuthErrorCode } from 'src/auth/auth.errors';
import { AUDITED_KEY, POLICY_KEY, PUBLIC_KEY, RequiredPolicy } from 'src/auth/auth.decorators';
import { PrincipalsService } from 'src/auth/principals.service';
import { requestIdOf, requestOf } from 'src/common/request-of';

/**
 * Authenticates the bearer API key and checks the handler's policy against the caller's CASL ability.
 * Deny by default: a handler with neither @Public nor @CheckPolicy is refused for everyone.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly principals: PrincipalsService,
    private readonly audit: AuditService,
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

    const operation = this.operationName(context);
    const policy = this.reflector.get<RequiredPolicy | undefined>(POLICY_KEY, context.getHandler());
    if (!policy || !auth.ability.can(policy.action, policy.subject)) {
      await this.audit.record(auth.actor, {
        action: 'access.denied',
        subjectType: policy?.subject ?? 'Operation',
        after: { operation, action: policy?.action ?? null, role: auth.principal.role },
      });
      throw policy
        ? new AuthError(
            AuthErrorCode.ACCESS_DENIED,
            `Role ${auth.principal.role} may not ${policy.action} ${policy.subject}`,
          )
        : new AuthError(AuthErrorCode.NO_POLICY, `${operation} has no access policy and is denied`);
    }
    const audited = this.reflector.get<string | undefined>(AUDITED_KEY, context.getHandler());
    if (audited) {
      await this.audit.record(auth.actor, {
        action: audited,
        subjectType: policy.subject,
        after: { operation },
      });
    }
    return true;
  }

  private operationName(context: ExecutionContext): string {
    if (context.getType<string>() === 'graphql') {
      return GqlExecutionContext.create(context).getInfo<{ fieldName: string }>().fieldName;
    }
    return `${context.getClass().name}.${context.getHandler().name}`;
  }
}
