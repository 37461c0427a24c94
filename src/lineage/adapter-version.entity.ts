import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { IdColumn, JsonColumn, RefColumn, StringColumn, TimeColumn } from 'src/database/columns';
import { ChannelEntity } from 'src/channels/channel.entity';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { AdapterStatus } from 'src/lineage/adapter-status';

export interface CandidateTraining {
  hyperparameters: { learningRate: number; epochs: number; rank: number; alpha: number };
  device: string;
  trainSeconds: number;
  /** SHA-256 of the training sequences as sent to the trainer (canonical JSON). */
  trainingDataSha256: string;
  baseModelDigest: string;
}

/** One trained LoRA adapter (a PEFT folder in the blob store, addressed by `digest`) and its place in lineage. */
@Entity('adapter_versions')
export class AdapterVersionEntity {
  @IdColumn() id!: string;
  @Index() @RefColumn() channelId!: string;
  @ManyToOne(() => ChannelEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'channelId' })
  channel?: ChannelEntity;
  @Index() @RefColumn({ nullable: true }) selfEditId!: string | null;
  @ManyToOne(() => SelfEditEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'selfEditId' })
  selfEdit?: SelfEditEntity | null;
  /** The adapter this one was trained on top of; null when trained on the base model. */
  @RefColumn({ nullable: true }) parentId!: string | null;
  @ManyToOne(() => AdapterVersionEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'parentId' })
  parent?: AdapterVersionEntity | null;
  @StringColumn(64, { unique: true }) digest!: string;
  @StringColumn(16) status!: AdapterStatus;
  /** How it was trained (hyperparameters, device, digests of the training data), for its provenance. */
  @JsonColumn({ nullable: true }) training!: CandidateTraining | null;
  @TimeColumn() createdAt!: Date;
  @TimeColumn({ nullable: true }) appliedAt!: Date | null;
}
