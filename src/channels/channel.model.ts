import { Field, ID, ObjectType } from '@nestjs/graphql';
import { ChannelEntity } from 'src/channels/channel.entity';

@ObjectType('Channel', { description: 'A deployment target: a base model and its applied adapter stack.' })
export class ChannelModel {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field() baseModel!: string;
  @Field(() => ID, { nullable: true, description: 'Top of the adapter stack; null serves the base model.' })
  headAdapterId!: string | null;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;

  static from(e: ChannelEntity): ChannelModel {
    return Object.assign(new ChannelModel(), {
      id: e.id,
      name: e.name,
      description: e.description,
      baseModel: e.baseModel,
      headAdapterId: e.headAdapterId,
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    });
  }
}
