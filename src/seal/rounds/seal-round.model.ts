import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { SealRoundStatus } from 'src/seal/rounds/seal-round.types';

@ObjectType('SealRoundProgress', { description: "The round's latest step, as its worker reported it." })
export class SealRoundProgressModel {
  @Field() stage!: string;
  @Field(() => Int, { description: 'Steps done of `total` (0 of 0 for a step that is not counted).' })
  done!: number;
  @Field(() => Int) total!: number;
  @Field(() => Int, { description: 'Seconds since the round process started.' }) seconds!: number;
}

@ObjectType('KeptSelfEdit', {
  description: 'The best of k self-edits for one passage, kept for its positive reward.',
})
export class KeptSelfEditModel {
  @Field(() => ID, { description: 'The knowledge source of the passage.' }) knowledgeSourceId!: string;
  @Field() text!: string;
  @Field(() => Float, {
    description: 'Closed-book accuracy gain on the passage questions after training on it.',
  })
  reward!: number;
}

@ObjectType('SealRoundResult')
export class SealRoundResultModel {
  @Field(() => Int) passages!: number;
  @Field(() => Int) k!: number;
  @Field(() => Float, { description: 'Mean reward over every sampled self-edit.' }) meanReward!: number;
  @Field(() => Float, { description: 'Mean over passages of the best reward of the k.' })
  meanBestReward!: number;
  @Field(() => Int, { description: 'Passages whose best self-edit had a positive reward.' }) kept!: number;
  @Field(() => Float, { nullable: true, description: "The generator update's last training loss." })
  generatorLoss!: number | null;
  @Field(() => [KeptSelfEditModel]) keptSelfEdits!: KeptSelfEditModel[];
}

@ObjectType('SealRound', {
  description:
    "One ReST-EM round on a channel's model. Its generator update is proposed as a self-edit (kind generator) " +
    'and reaches the channel only through the gates and approvals.',
})
export class SealRoundModel {
  @Field(() => ID) id!: string;
  @Field(() => ID) channelId!: string;
  @Field(() => SealRoundStatus) status!: SealRoundStatus;
  @Field(() => [ID]) knowledgeSourceIds!: string[];
  @Field(() => Int) k!: number;
  @Field(() => Int) seed!: number;
  @Field(() => ID, {
    nullable: true,
    description: 'The channel head the round ran on; null for the base model.',
  })
  parentAdapterId!: string | null;
  @Field(() => SealRoundProgressModel, { nullable: true }) progress!: SealRoundProgressModel | null;
  @Field(() => SealRoundResultModel, { nullable: true }) result!: SealRoundResultModel | null;
  @Field(() => String, { nullable: true, description: 'Why the round FAILED or who CANCELLED it.' })
  error!: string | null;
  @Field(() => ID, { nullable: true, description: 'The generator update, proposed as a self-edit.' })
  selfEditId!: string | null;
  @Field(() => ID) startedById!: string;
  @Field(() => Int, { description: 'Times a worker has run it (a restart resumes from its checkpoint).' })
  attempts!: number;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
  @Field(() => Date, { nullable: true }) startedAt!: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt!: Date | null;

  static from(r: SealRoundEntity): SealRoundModel {
    const result = r.result;
    return Object.assign(new SealRoundModel(), {
      id: r.id,
      channelId: r.channelId,
      status: r.status,
      knowledgeSourceIds: r.settings.knowledgeSourceIds,
      k: r.settings.k,
      seed: r.settings.seed,
      parentAdapterId: r.parentAdapterId,
      progress: r.progress && {
        stage: r.progress.stage,
        done: r.progress.done,
        total: r.progress.total,
        seconds: r.progress.seconds,
      },
      result: result && {
        passages: result.passages,
        k: result.k,
        meanReward: result.meanReward,
        meanBestReward: result.meanBestReward,
        kept: result.kept,
        generatorLoss: result.generatorLoss,
        keptSelfEdits: result.keptSelfEdits.map((e) => ({
          knowledgeSourceId: e.passageId,
          text: e.text,
          reward: e.reward,
        })),
      },
      error: r.error,
      selfEditId: r.selfEditId,
      startedById: r.startedById,
      attempts: r.attempts,
      createdAt: r.createdAt,
      updatedAt: r.updatedAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
    });
  }
}
