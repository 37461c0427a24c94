import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ApprovalDecision } from 'src/approvals/approval-decision';
import { ApprovalModel } from 'src/approvals/approval.model';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { SelfEditModel } from 'src/self-edits/self-edit.model';

@Resolver(() => ApprovalModel)
export class ApprovalsResolver {
  constructor(private readonly service: ApprovalsService) {}

  @Query(() => [ApprovalModel], { description: "A self-edit's approvals and rejections, oldest first." })
  @CheckPolicy(Action.read, Subject.Approval)
  async approvals(
    @Args('selfEditId', { type: () => ID }, ParseUUIDPipe) selfEditId: string,
  ): Promise<ApprovalModel[]> {
    return (await this.service.forEdit(selfEditId)).map((a) => ApprovalModel.from(a));
  }

  @Mutation(() => SelfEditModel, {
    description: 'Approves an edit AWAITING_APPROVAL; it becomes APPROVED once the policy quorum is reached.',
  })
  @CheckPolicy(Action.approve, Subject.SelfEdit)
  async approveSelfEdit(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
    @Args('comment', { type: () => String, nullable: true }) comment?: string,
  ): Promise<SelfEditModel> {
    const edit = await this.service.decide(auth, id, { decision: ApprovalDecision.APPROVE, text: comment });
    return SelfEditModel.from(edit);
  }

  @Mutation(() => SelfEditModel, { description: 'Rejects an edit AWAITING_APPROVAL; a reason is required.' })
  @CheckPolicy(Action.reject, Subject.SelfEdit)
  async rejectSelfEdit(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
    @Args('reason') reason: string,
  ): Promise<SelfEditModel> {
    const edit = await this.service.decide(auth, id, { decision: ApprovalDecision.REJECT, text: reason });
    return SelfEditModel.from(edit);
  }
}
