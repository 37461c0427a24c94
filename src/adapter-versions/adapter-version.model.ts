import { Field, ID, ObjectType } from '@nestjs/graphql';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterRevert, AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';

@ObjectType('AdapterRevert', {
  description: 'What a revert version removed from the stack, what it carries over, and why.',
})
export class AdapterRevertModel {
  @Field(() => ID) removedAdapterVersionId!: string;
  @Field(() => ID) removedSelfEditId!: string;
  @Field(() => ID, { description: 'The head it replaced.' }) fromHeadAdapterId!: string;
  @Field(() => [ID], {
    description: 'The versions above the removed one, rebuilt into this one, oldest first.',
  })
  carriedAdapterVersionIds!: string[];
  @Field(() => [ID], { description: 'The edits still in force through this version.' })
  carriedSelfEditIds!: string[];
  @Field() reason!: string;
  @Field(() => [ID], { description: 'The forgetting gate reports of the stack without the edit.' })
  gateReportIds!: string[];

  static from(r: AdapterRevert): AdapterRevertModel {
    return Object.assign(new AdapterRevertModel(), {
      removedAdapterVersionId: r.removedAdapterVersionId,
      removedSelfEditId: r.removedSelfEditId,
      fromHeadAdapterId: r.fromHeadAdapterId,
      carriedAdapterVersionIds: r.carried.map((c) => c.adapterVersionId),
      carriedSelfEditIds: r.carriedSelfEditIds,
      reason: r.reason,
      gateReportIds: r.gateReportIds,
    });
  }
}

@ObjectType('AdapterVersion', { description: 'A trained LoRA adapter and its place in lineage.' })
export class AdapterVersionModel {
  @Field(() => ID) id!: string;
  @Field(() => ID) channelId!: string;
  @Field(() => ID, { nullable: true }) selfEditId!: string | null;
  @Field(() => ID, {
    nullable: true,
    description: 'The version it was trained on top of; null: the base model.',
  })
  parentId!: string | null;
  @Field({ description: 'SHA-256 over the adapter files (the store address).' }) digest!: string;
  @Field(() => AdapterStatus) status!: AdapterStatus;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) appliedAt!: Date | null;
  @Field(() => AdapterRevertModel, {
    nullable: true,
    description: 'Set when this version was built by reverting one edit from the middle of the stack.',
  })
  revert!: AdapterRevertModel | null;

  static from(e: AdapterVersionEntity): AdapterVersionModel {
    return Object.assign(new AdapterVersionModel(), {
      id: e.id,
      channelId: e.channelId,
      selfEditId: e.selfEditId,
      parentId: e.parentId,
      digest: e.digest,
      status: e.status,
      createdAt: e.createdAt,
      appliedAt: e.appliedAt,
      revert: e.revert ? AdapterRevertModel.from(e.revert) : null,
    });
  }
}
