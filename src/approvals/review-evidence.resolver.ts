import { ParseUUIDPipe } from '@nestjs/common';
import { Args, Field, ID, Int, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CheckPolicy } from 'src/auth/auth.decorators';
import { Action, Subject } from 'src/auth/policy';
import { ApprovalModel } from 'src/approvals/approval.model';
import { ReviewEvidence, ReviewEvidenceService } from 'src/approvals/review-evidence.service';
import { GateReportModel } from 'src/gates/gate-report.model';
import { KnowledgeSourceModel } from 'src/knowledge/knowledge-source.model';
import { SelfEditModel } from 'src/self-edits/self-edit.model';

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

  static from(e: ReviewEvidence): ReviewEvidenceModel {
    return Object.assign(new ReviewEvidenceModel(), {
      selfEdit: SelfEditModel.from(e.edit),
      source: e.source ? KnowledgeSourceModel.from(e.source) : null,
      gateReports: e.reports.map((r) => GateReportModel.from(r)),
      approvals: e.approvals.map((a) => ApprovalModel.from(a)),
      requiredApprovals: e.requiredApprovals,
      approvedBy: e.approvedBy,
      expiresAt: e.expiresAt,
    });
  }
}

@Resolver(() => ReviewEvidenceModel)
export class ReviewEvidenceResolver {
  constructor(private readonly review: ReviewEvidenceService) {}

  @Query(() => ReviewEvidenceModel)
  @CheckPolicy(Action.read, Subject.GateReport)
  async reviewEvidence(
    @Args('selfEditId', { type: () => ID }, ParseUUIDPipe) selfEditId: string,
  ): Promise<ReviewEvidenceModel> {
    return ReviewEvidenceModel.from(await this.review.of(selfEditId));
  }
}
