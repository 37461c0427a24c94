import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('GenerationChoice')
export class GenerationChoiceModel {
  @Field() text!: string;
  @Field({ description: 'stop (a stop string), eos (the model ended) or length (maxTokens reached).' })
  finishReason!: string;
  @Field(() => Int) completionTokens!: number;
}

@ObjectType('ServedBy', { description: 'Which model produced an answer, for audit.' })
export class ServedByModel {
  @Field(() => String, { nullable: true }) channel!: string | null;
  @Field(() => ID, { nullable: true, description: 'The adapter version on top; null for the base model.' })
  headAdapterId!: string | null;
  @Field({ description: 'SHA-256 of the base model weights.' }) baseModelDigest!: string;
  @Field(() => [String], {
    description:
      'Digests of the adapters that served this answer, base first: those of the stack whose route key the prompt matched, and every unrouted one.',
  })
  adapterDigests!: string[];
  @Field(() => [String], {
    description:
      "Digests of every adapter in the served stack, base first; those missing from adapterDigests were routed out (the prompt is not about their edit's subject).",
  })
  stackAdapterDigests!: string[];
}

@ObjectType('Generation')
export class GenerationModel {
  @Field(() => [GenerationChoiceModel]) choices!: GenerationChoiceModel[];
  @Field(() => Int) promptTokens!: number;
  @Field(() => Int) completionTokens!: number;
  @Field(() => Float) latencyMs!: number;
  @Field(() => ServedByModel) servedBy!: ServedByModel;
}

@ObjectType('Answer')
export class AnswerModel {
  @Field() answer!: string;
  @Field(() => Int) promptTokens!: number;
  @Field(() => Int) completionTokens!: number;
  @Field(() => Float) latencyMs!: number;
  @Field(() => ServedByModel) servedBy!: ServedByModel;
}
