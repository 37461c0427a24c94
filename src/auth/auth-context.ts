import { ForbiddenError, subject as caslSubject } from '@casl/ability';
import { Actor } from 'src/common/actor';
import { ApiKeyLimits } from 'src/auth/api-key.entity';
import { AppAbility } from 'src/auth/ability.factory';
import { Action, Subject } from 'src/auth/policy';
import { PrincipalEntity } from 'src/auth/principal.entity';

/** The authenticated caller of one request, as services see it. */
export class AuthContext {
  constructor(
    readonly principal: PrincipalEntity,
    readonly ability: AppAbility,
    readonly requestId?: string,
    /** The API key this request came with (per-key limits count against it). */
    readonly apiKeyId?: string,
    /** That key's own limits, as of this request's authentication (null fields: the gateway defaults). */
    readonly keyLimits?: ApiKeyLimits,
  ) {}

  get actor(): Actor {
    return { id: this.principal.id, name: this.principal.name, requestId: this.requestId };
  }

  /** Record-level check: throws FORBIDDEN unless policy allows `action` on this very record. */
  assertCan(action: Action, subjectType: Subject, record: object): void {
    ForbiddenError.from(this.ability).throwUnlessCan(action, caslSubject(subjectType, { ...record }));
  }

  can(action: Action, subjectType: Subject, record: object): boolean {
    return this.ability.can(action, caslSubject(subjectType, { ...record }));
  }
}
