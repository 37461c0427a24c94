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
import {
  SealRoundProgress,
  SealRoundResult,
  SealRoundSettings,
  SealRoundStatus,
} from 'src/seal/rounds/seal-round.types';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';

/**
 * One ReST-EM round on a channel: k self-edits per passage, each trained and rewarded, the best kept, and the
 * generator fine-tuned on them. The generator update it produces is proposed as a self-edit (`selfEditId`) and
 * reaches the channel only through the gated lifecycle.
 */
@Entity('seal_rounds')
export class SealRoundEntity {
  @IdColumn() id!: string;
  @Index() @RefColumn() channelId!: string;
  @ManyToOne(() => ChannelEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'channelId' })
  channel?: ChannelEntity;
  /** The channel head the round's model was (base + this stack): the generator update is trained on it. */
  @RefColumn({ nullable: true }) parentAdapterId!: string | null;
  @Index() @StringColumn(16) status!: SealRoundStatus;
  @JsonColumn() settings!: SealRoundSettings;
  @JsonColumn({ nullable: true }) progress!: SealRoundProgress | null;
  @JsonColumn({ nullable: true }) result!: SealRoundResult | null;
  @TextColumn({ nullable: true }) error!: string | null;
  /** The generator update, once proposed. */
  @Index() @RefColumn({ nullable: true }) selfEditId!: string | null;
  @ManyToOne(() => SelfEditEntity, { onDelete: 'RESTRICT', nullable: true })
  @JoinColumn({ name: 'selfEditId' })
  selfEdit?: SelfEditEntity | null;
  @Index() @RefColumn() startedById!: string;
  @ManyToOne(() => PrincipalEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'startedById' })
  startedBy?: PrincipalEntity;
  /** How many times a worker has started the round (a restart resumes from the round's checkpoint). */
  @IntColumn() attempts!: number;
  @TimeColumn() createdAt!: Date;
  @TimeColumn() updatedAt!: Date;
  @TimeColumn({ nullable: true }) startedAt!: Date | null;
  @TimeColumn({ nullable: true }) finishedAt!: Date | null;
}
