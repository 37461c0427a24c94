import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { IdColumn, IntColumn, JsonColumn, RefColumn, StringColumn, TimeColumn } from 'src/database/columns';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { GateVerdict } from 'src/gates/gate-verdict';

/** The stored outcome of one gate on one self-edit; `sha256` covers the canonical JSON of the report. */
@Entity('gate_reports')
export class GateReportEntity {
  @IdColumn() id!: string;
  @Index() @RefColumn() selfEditId!: string;
  @ManyToOne(() => SelfEditEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'selfEditId' })
  selfEdit?: SelfEditEntity;
  /** The pipeline run of the edit that produced it; only the latest run's reports decide. */
  @IntColumn() pipelineRun!: number;
  @StringColumn(64) gate!: string;
  @StringColumn(32) gateVersion!: string;
  @StringColumn(8) verdict!: GateVerdict;
  @JsonColumn() metrics!: Record<string, number>;
  @JsonColumn() thresholds!: Record<string, number>;
  @JsonColumn() evidence!: unknown;
  @IntColumn() durationMs!: number;
  @StringColumn(64) sha256!: string;
  @TimeColumn() createdAt!: Date;
}
