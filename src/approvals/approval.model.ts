import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { ApprovalDecision } from 'src/approvals/approval-decision';
import { ApprovalEntity } from 'src/approvals/approval.entity';

@ObjectType('Approval', { description: "One reviewer's decision on one pipeline run of a self-edit." })
export class ApprovalModel {
  @Field(() => ID) id!: string;
  @Field(() => ID) selfEditId!: string;
  @Field(() => Int) pipelineRun!: number;
  @Field(() => ID) reviewerId!: string;
  @Field(() => ApprovalDecision) decision!: ApprovalDecision;
  @Field(() => String, {
    nullable: true,
    description: 'The comment of an approval, the reason of a rejection.',
  })
  comment!: string | null;
  @Field() createdAt!: Date;

  static from(e: ApprovalEntity): ApprovalModel {
    return Object.assign(new ApprovalModel(), {
      id: e.id,
      selfEditId: e.selfEditId,
      pipelineRun: e.pipelineRun,
      reviewerId: e.reviewerId,
      decision: e.decision,
      comment: e.comment,
      createdAt: e.createdAt,
    });
  }
}
