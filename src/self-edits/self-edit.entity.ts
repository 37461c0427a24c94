import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import {
  IdColumn,
  IntColumn,
  JsonColumn,
  RefColumn,
  StringColumn,
  TextColumn,
  TimeColumn,
} from 'src/database/columns';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { ChannelEntity } from 'src/channels/channel.entity';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditKind, SelfEditOrigin, TrainingHyperparameters } from 'src/self-edits/self-edit.types';

@Entity('self_edits')
export class SelfEditEntity {
  @IdColumn() id!: string;
  @Index() @RefColumn() channelId!: string;
  @ManyToOne(() => ChannelEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'channelId' })
  channel?: ChannelEntity;
  @Index() @RefColumn({ nullable: true }) knowledgeSourceId!: string | null;
  @ManyToOne(() => KnowledgeSourceEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'knowledgeSourceId' })
  knowledgeSource?: KnowledgeSourceEntity | null;
  @StringColumn(32) kind!: SelfEditKind;
  @StringColumn(16) origin!: SelfEditOrigin;
  @TextColumn() content!: string;
  @StringColumn(64) contentSha256!: string;
  @JsonColumn({ nullable: true }) hyperparameters!: TrainingHyperparameters | null;
  @Index() @StringColumn(32) status!: SelfEditStatus;
  @TextColumn({ nullable: true }) statusReason!: string | null;
  @Index() @RefColumn() proposedById!: string;
  @ManyToOne(() => PrincipalEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'proposedById' })
  proposedBy?: PrincipalEntity;
  @TimeColumn() createdAt!: Date;
  @TimeColumn() updatedAt!: Date;
  /** Which run through the gates this is: 1, then one more for each retry after an infrastructure failure. */
  @IntColumn() pipelineRun!: number;
  /** Optimistic lock: every status change is conditional on the version read. */
  @IntColumn() version!: number;
}
