import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { IdColumn, JsonColumn, RefColumn, StringColumn, TimeColumn } from 'src/database/columns';
import { ChannelEntity } from 'src/channels/channel.entity';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';

export interface CandidateTraining {
  hyperparameters: { learningRate: number; epochs: number; rank: number; alpha: number };
  device: string;
  trainSeconds: number;
  /** SHA-256 of the training sequences as sent to the trainer (canonical JSON). */
  trainingDataSha256: string;
  baseModelDigest: string;
  /** What the candidate trained on beside its own edit (policy `training.replay`); absent when nothing. */
  replay?: { appliedEdits: number; rehearsalTexts: number };
  /**
   * Policy `training.routing: subject`: the route key written into the adapter's config, and how many of the
   * parent's adapters the candidate trained on (those its own texts route to) of how many in the stack.
   */
  routing?: { key: string[]; parentAdapters: number; parentAdaptersRouted: number };
  /** Set when the candidate is a ReST-EM round's generator update (imported, not trained by the pipeline). */
  sealRoundId?: string;
}

/**
 * What a revert version is: the stack without one edit's adapter, rebuilt exactly as the rank concatenation of
 * the versions that sat above it, on the removed version's parent.
 */
export interface AdapterRevert {
  removedAdapterVersionId: string;
  removedSelfEditId: string;
  removedDigest: string;
  /** The head the revert replaced (the stack the forgetting gates compared against). */
  fromHeadAdapterId: string;
  /** The versions above the removed one whose weights this version carries, oldest first. */
  carried: { adapterVersionId: string; digest: string }[];
  /** The edits in force in the carried versions (they stay APPLIED). */
  carriedSelfEditIds: string[];
  reason: string;
  /** The gates of the channel policy re-run on the new stack before it took effect. */
  gateReportIds: string[];
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
  /** Set on a version built by reverting one edit from the middle of a stack; it then has no self-edit. */
  @JsonColumn({ nullable: true }) revert!: AdapterRevert | null;
  @TimeColumn() createdAt!: Date;
  @TimeColumn({ nullable: true }) appliedAt!: Date | null;
}

/** The edits whose changes a version holds: its own, or those a revert version carries. */
export const editsOf = (version: Pick<AdapterVersionEntity, 'selfEditId' | 'revert'>): string[] =>
  version.selfEditId ? [version.selfEditId] : (version.revert?.carriedSelfEditIds ?? []);
