import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { allowedTransitions, SelfEditStatus } from 'src/self-edits/self-edit-status';
import { LossOn, SelfEditKind, SelfEditOrigin } from 'src/self-edits/self-edit.types';

@ObjectType('TrainingHyperparameters')
export class TrainingHyperparametersModel {
  @Field(() => Float, { nullable: true }) learningRate?: number;
  @Field(() => Int, { nullable: true }) epochs?: number;
  @Field(() => Int, { nullable: true }) rank?: number;
  @Field(() => Int, { nullable: true }) alpha?: number;
  @Field(() => LossOn, { nullable: true }) lossOn?: LossOn;
}

@ObjectType('SelfEdit', {
  description: 'A proposed change to a model, and where it stands in the gated lifecycle.',
})
export class SelfEditModel {
  @Field(() => ID) id!: string;
  @Field(() => ID) channelId!: string;
  @Field(() => ID, { nullable: true }) knowledgeSourceId!: string | null;
  @Field(() => SelfEditKind) kind!: SelfEditKind;
  @Field(() => SelfEditOrigin) origin!: SelfEditOrigin;
  @Field() content!: string;
  @Field() contentSha256!: string;
  @Field(() => TrainingHyperparametersModel, { nullable: true })
  hyperparameters!: TrainingHyperparametersModel | null;
  @Field(() => SelfEditStatus) status!: SelfEditStatus;
  @Field(() => String, { nullable: true }) statusReason!: string | null;
  @Field(() => [SelfEditStatus], { description: 'Where the lifecycle allows this edit to go next.' })
  nextStatuses!: SelfEditStatus[];
  @Field(() => Int, { description: 'The run through the gates: 1, plus one per retry after a FAILED run.' })
  pipelineRun!: number;
  @Field(() => ID) proposedById!: string;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;

  static from(e: SelfEditEntity): SelfEditModel {
    return Object.assign(new SelfEditModel(), {
      id: e.id,
      channelId: e.channelId,
      knowledgeSourceId: e.knowledgeSourceId,
      kind: e.kind,
      origin: e.origin,
      content: e.content,
      contentSha256: e.contentSha256,
      hyperparameters: e.hyperparameters,
      status: e.status,
      statusReason: e.statusReason,
      nextStatuses: [...allowedTransitions[e.status]],
      pipelineRun: e.pipelineRun,
      proposedById: e.proposedById,
      createdAt: e.createdAt,
      updatedAt: e.updatedAt,
    });
  }
}
