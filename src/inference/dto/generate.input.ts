import { Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  IsInt,
  IsNumber,
  IsOptional,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/** Which model answers: a channel's head, a pinned adapter version, or (neither) the base model. */
@InputType({ isAbstract: true })
export abstract class ServingTargetInput {
  @Field(() => String, { nullable: true, description: 'Serve the head of this channel (e.g. prod).' })
  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{1,63}$/, { message: 'channel must be 2-64 lower-case letters, digits or dashes' })
  channel?: string;

  @Field(() => ID, { nullable: true, description: 'Serve this adapter version (and its parents).' })
  @IsOptional()
  @IsUUID()
  adapterVersionId?: string;
}

@InputType()
export class GenerateInput extends ServingTargetInput {
  @Field()
  @MinLength(1)
  @MaxLength(20_000)
  prompt!: string;

  @Field(() => Int, { defaultValue: 64 })
  @IsInt()
  @Min(1)
  @Max(32_768)
  maxTokens!: number;

  @Field(() => Float, { defaultValue: 0, description: '0 is greedy decoding.' })
  @IsNumber()
  @Min(0)
  @Max(5)
  temperature!: number;

  @Field(() => Float, {
    defaultValue: 1,
    description: 'Nucleus sampling: keep tokens up to this probability mass.',
  })
  @IsNumber()
  @Min(0.01)
  @Max(1)
  topP!: number;

  @Field(() => [String], {
    defaultValue: [],
    description: 'Generation ends before the first of these strings.',
  })
  @ArrayMaxSize(8)
  @MaxLength(64, { each: true })
  stop!: string[];

  @Field(() => Int, { nullable: true, description: 'Same seed, same samples.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;

  @Field(() => Int, { defaultValue: 1, description: 'Independent samples, generated in one batch.' })
  @IsInt()
  @Min(1)
  @Max(16)
  samples!: number;
}

@InputType()
export class AnswerInput extends ServingTargetInput {
  @Field()
  @MinLength(1)
  @MaxLength(2000)
  question!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Answer from this passage (in-context) instead of memory.',
  })
  @IsOptional()
  @MaxLength(20_000)
  passage?: string;

  @Field(() => String, { nullable: true, description: "The passage's title line." })
  @IsOptional()
  @MaxLength(200)
  title?: string;
}

/** The sampling a GraphQL generation asks for, as the engine takes it. */
export const samplingOf = (input: GenerateInput) => ({
  maxTokens: input.maxTokens,
  temperature: input.temperature,
  topP: input.topP,
  stop: input.stop,
  seed: input.seed,
});
