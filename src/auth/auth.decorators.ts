import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { AuditAction } from 'src/audit/audit-action';
import { Action, Subject } from 'src/auth/policy';
import { AuthContext } from 'src/auth/auth-context';
import { requestOf } from 'src/common/request-of';

export const POLICY_KEY = 'sealgate:policy';
export const PUBLIC_KEY = 'sealgate:public';
export const AUDITED_KEY = 'sealgate:audited';
export const GENERATION_LIMITED_KEY = 'sealgate:generation-limited';

export interface RequiredPolicy {
  action: Action;
  subject: Subject;
}

/** What the caller's role must be allowed to do to reach this handler. Every non-public handler needs one. */
export const CheckPolicy = (action: Action, subject: Subject) =>
  SetMetadata<string, RequiredPolicy>(POLICY_KEY, { action, subject });

/** Reachable without credentials (health, metrics). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/** A privileged read: each call is recorded in the audit log under this action name. */
export const AuditedCall = (action: AuditAction) => SetMetadata(AUDITED_KEY, action);

/**
 * Generation: the handler takes from the key's generation bucket itself (KeyLimitsService.takeRequest), so
 * AuthGuard does not take it from the key's `calls` bucket, which every other authenticated handler draws on.
 */
export const LimitedAsGeneration = () => SetMetadata(GENERATION_LIMITED_KEY, true);

/** The authenticated caller, set by AuthGuard. */
export const Auth = createParamDecorator((_data: unknown, context: ExecutionContext): AuthContext => {
  const auth = requestOf<AuthContext>(context).auth;
  if (!auth) throw new Error('Auth() used on a handler that AuthGuard did not authenticate');
  return auth;
});
