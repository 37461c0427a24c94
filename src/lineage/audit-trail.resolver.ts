import { Args, Float, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Auth, AuditedCall, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { JobsService } from 'src/queues/jobs.service';
import { JobName } from 'src/queues/queue-names';
import { Action, Subject } from 'src/auth/policy';
import { AuditEventModel } from 'src/audit/audit.model';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { BoundedIntPipe } from 'src/common/bounded-int.pipe';
import { MAX_PAGE_SIZE } from 'src/common/pagination.args';

@Resolver(() => AuditEventModel)
export class AuditTrailResolver {
  constructor(
    private readonly audit: AuditService,
    private readonly jobs: JobsService,
  ) {}

  @Query(() => [AuditEventModel], {
    description: 'Events in chain order after `afterSeq`; page with the last seq.',
  })
  @CheckPolicy(Action.read, Subject.AuditEvent)
  @AuditedCall(AuditAction.AUDIT_READ)
  async auditEvents(
    @Args(
      'afterSeq',
      { type: () => Float, defaultValue: 0 },
      new BoundedIntPipe('afterSeq', 0, Number.MAX_SAFE_INTEGER),
    )
    afterSeq: number,
    @Args('limit', { type: () => Int, defaultValue: 100 }, new BoundedIntPipe('limit', 1, MAX_PAGE_SIZE))
    limit: number,
    @Args('subjectType', { nullable: true }) subjectType?: string,
    @Args('subjectId', { type: () => ID, nullable: true }) subjectId?: string,
  ): Promise<AuditEventModel[]> {
    return (await this.audit.list(afterSeq, limit, { subjectType, subjectId })).map((e) =>
      AuditEventModel.from(e),
    );
  }

  @Mutation(() => String, { description: 'Queues a full verification by the worker; returns the job id.' })
  @CheckPolicy(Action.verify, Subject.AuditEvent)
  requestAuditVerification(@Auth() auth: AuthContext): Promise<string> {
    return this.jobs.enqueue(JobName.VERIFY_AUDIT_CHAIN, { requestedBy: auth.principal.name });
  }
}
