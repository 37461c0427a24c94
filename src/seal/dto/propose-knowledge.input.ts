import { Field, InputType, Int } from '@nestjs/graphql';
import { IsIn, IsInt, IsOptional, Max, MaxLength, Min, MinLength } from 'class-validator';
import { AddKnowledgeSourceInput } from 'src/knowledge/dto/add-knowledge-source.input';
import { SelfEditKind } from 'src/self-edits/self-edit.types';

/** Most self-edits one proposal may sample (SEAL samples 5). */
export const MAX_SELF_EDIT_SAMPLES = 8;

@InputType()
export class ProposeKnowledgeInput extends AddKnowledgeSourceInput {
  @Field({ description: 'Channel whose model writes the self-edits and would learn the passage.' })
  @MinLength(1)
  @MaxLength(64)
  channel!: string;

  @Field(() => SelfEditKind, {
    nullable: true,
    description: 'Prompt family: implications (default), rewrite or self_qa.',
  })
  @IsOptional()
  @IsIn([SelfEditKind.implications, SelfEditKind.rewrite, SelfEditKind.self_qa], {
    message: 'family must be implications, rewrite or self_qa',
  })
  family?: SelfEditKind;

  @Field(() => Int, {
    nullable: true,
    description: `Self-edits sampled (default 5, at most ${MAX_SELF_EDIT_SAMPLES}); each goes through the gates.`,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_SELF_EDIT_SAMPLES)
  samples?: number;

  @Field(() => Int, { nullable: true, description: 'Sampling seed, for a reproducible proposal.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  seed?: number;
}
