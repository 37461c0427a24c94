import { Inject, Injectable } from '@nestjs/common';
import { createMongoAbility, ForcedSubject, MongoAbility, RawRuleOf } from '@casl/ability';
import { Action, Subject } from 'src/auth/policy';
import { PolicyFile, PolicyRule } from 'src/auth/policy-file';
import { Role } from 'src/auth/role';

/** Subjects are checked by type (`Subject.X`) at the guard and as tagged records (`subject(X, row)`) in services. */
export type AppAbility = MongoAbility<[Action, Subject | ForcedSubject<Subject>]>;
export const POLICY_FILE = Symbol('POLICY_FILE');

export interface AbilityOwner {
  id: string;
  role: Role;
}

/** Replaces `${principal.id}` in condition values with the caller's id. */
function interpolate(value: unknown, principal: AbilityOwner): unknown {
  if (typeof value === 'string') return value.replaceAll('${principal.id}', principal.id);
  if (Array.isArray(value)) return value.map((v) => interpolate(v, principal));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, principal)]));
  }
  return value;
}

/** Compiles the validated policy file into a CASL ability for one principal. Nothing not granted is allowed. */
@Injectable()
export class AbilityFactory {
  constructor(@Inject(POLICY_FILE) private readonly policy: PolicyFile) {}

  forPrincipal(principal: AbilityOwner): AppAbility {
    const rules = this.policy.roles[principal.role].map((rule: PolicyRule): RawRuleOf<AppAbility> => ({
      action: rule.action,
      subject: rule.subject,
      conditions: rule.conditions
        ? (interpolate(rule.conditions, principal) as Record<string, unknown>)
        : undefined,
      fields: rule.fields,
      inverted: rule.inverted,
      reason: rule.reason,
    }));
    return createMongoAbility<AppAbility>(rules);
  }
}
