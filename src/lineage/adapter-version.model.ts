import { Field, ID, ObjectType } from '@nestjs/graphql';
import { AdapterStatus } from 'src/lineage/adapter-status';
import { AdapterVersionEntity } from 'src/lineage/adapter-version.entity';

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
    });
  }
}
