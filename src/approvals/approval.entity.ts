import { Entity, Index, JoinColumn, ManyToOne, Unique } from 'typeorm';
import { IdColumn, IntColumn, RefColumn, StringColumn, TextColumn, TimeColumn } from 'src/database/columns';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { ApprovalDecision } from 'src/approvals/approval-decision';

/** One reviewer's decision on one self-edit; a reviewer decides at most once per pipeline run of an edit. */
@Entity('approvals')
@Unique('uq_approvals_edit_run_reviewer', ['selfEditId', 'pipelineRun', 'reviewerId'])
export class ApprovalEntity {
  @IdColumn() id!: string;
  @Index() @RefColumn() selfEditId!: string;
  @ManyToOne(() => SelfEditEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'selfEditId' })
  selfEdit?: SelfEditEntity;
  /** The run reviewed; a new run (after a failure) is a new review. */
  @IntColumn() pipelineRun!: number;
  @RefColumn() reviewerId!: string;
  @ManyToOne(() => PrincipalEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'reviewerId' })
  reviewer?: PrincipalEntity;
  @StringColumn(16) decision!: ApprovalDecision;
  @TextColumn({ nullable: true }) comment!: string | null;
  @TimeColumn() createdAt!: Date;
}
