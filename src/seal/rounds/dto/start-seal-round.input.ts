import { Field, ID, InputType, Int } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsInt,
  IsOptional,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

/** Most passages and samples one round may take (a round's cost is passages x k trials). */
export const MAX_ROUND_PASSAGES = 500;
export const MAX_ROUND_SAMPLES = 16;

@InputType()
export class StartSealRoundInput {
  @Field({ description: 'Channel whose model writes the self-edits and whose generator the round updates.' })
  @MinLength(1)
  @MaxLength(64)
  channel!: string;

  @Field(() => [ID], { description: 'Passages to learn from; each must carry questions (the reward).' })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ROUND_PASSAGES)
  @IsUUID('all', { each: true })
  knowledgeSourceIds!: string[];

  @Field(() => Int, {
    nullable: true,
    description: `Self-edits sampled per passage (default 5, at most ${MAX_ROUND_SAMPLES}).`,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_ROUND_SAMPLES)
  k?: number;

  @Field(() => Int, { nullable: true, description: 'Sampling seed (default 0).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(2 ** 31 - 1)
  seed?: number;
}
