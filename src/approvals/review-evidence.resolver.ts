import { ParseUUIDPipe } from '@nestjs/common';
import { Args, Field, ID, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CheckPolicy } from 'src/auth/auth.decorators';
import { Action, Subject } from 'src/auth/policy';
import { ApprovalModel } from 'src/approvals/approval.model';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { ChannelsService } from 'src/channels/channels.service';
import { GateReportModel } from 'src/gates/gate-report.model';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { KnowledgeSourceModel } from 'src/knowledge/knowledge-source.model';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { approversOf, requiredApprovals, reviewExpiresAt } from 'src/approvals/approval-rules';
import { SelfEditModel } from 'src/self-edits/self-edit.model';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

@ObjectType('ReviewEvidence', {
  description:
    "Everything a reviewer decides on: the edit, its passage and provenance, every gate report of the latest run (their evidence holds the candidate's answers beside its parent's), and where the review stands.",
})
class ReviewEvidenceModel {
  @Field(() => SelfEditModel) selfEdit!: SelfEditModel;
  @Field(() => KnowledgeSourceModel, { nullable: true }) source!: KnowledgeSourceModel | null;
  @Field(() => [GateReportModel]) gateReports!: GateReportModel[];
  @Field(() => [ApprovalModel]) approvals!: ApprovalModel[];
  @Field(() => Int, { description: 'Approvals this run needs (more when a gate warned).' })
  requiredApprovals!: number;
  @Field(() => [ID], { description: 'Reviewers who approved this run, the proposer never counted.' })
  approvedBy!: string[];
  @Field(() => Date, { nullable: true, description: 'When the review expires, while it is open.' })
  expiresAt!: Date | null;
}

@Resolver(() => ReviewEvidenceModel)
export class ReviewEvidenceResolver {
  constructor(
    private readonly edits: SelfEditsService,
    private readonly knowledge: KnowledgeService,
    private readonly channels: ChannelsService,
    private readonly policies: ChannelPolicyService,
    private readonly reports: GateReportsService,
    private readonly approvals: ApprovalsService,
  ) {}

  @Query(() => ReviewEvidenceModel)
  @CheckPolicy(Action.read, Subject.GateReport)
  async reviewEvidence(
    @Args('selfEditId', { type: () => ID }, ParseUUIDPipe) selfEditId: string,
  ): Promise<ReviewEvidenceModel> {
    const edit = await this.edits.get(selfEditId);
    const policy = this.policies.forChannel((await this.channels.get(edit.channelId)).name).approval;
    const reports = await this.reports.forEdit(edit.id, edit.pipelineRun);
    const approvals = (await this.approvals.forEdit(edit.id)).filter(
      (a) => a.pipelineRun === edit.pipelineRun,
    );
    const source = edit.knowledgeSourceId ? await this.knowledge.get(edit.knowledgeSourceId) : null;
    const open = edit.status === SelfEditStatus.AWAITING_APPROVAL;
    return {
      selfEdit: SelfEditModel.from(edit),
      source: source ? KnowledgeSourceModel.from(source) : null,
      gateReports: reports.map((r) => GateReportModel.from(r)),
      approvals: approvals.map((a) => ApprovalModel.from(a)),
      requiredApprovals: requiredApprovals({ edit, reports, approval: policy }),
      approvedBy: approversOf({ edit, approvals }),
      expiresAt: open ? reviewExpiresAt(edit, policy) : null,
    };
  }
}
