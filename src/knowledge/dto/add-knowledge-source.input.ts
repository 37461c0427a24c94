import { Field, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsISO8601,
  IsOptional,
  IsUrl,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

/** Largest passage accepted; SEAL passages are paragraphs, not documents. */
export const MAX_PASSAGE_CHARS = 20_000;

@InputType()
export class ProvenanceInput {
  @Field(() => String, { nullable: true }) @IsOptional() @IsISO8601() retrievedAt?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) license?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) publisher?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2000) notes?: string;
}

/** Most questions one passage may carry. */
export const MAX_PASSAGE_QUESTIONS = 50;

@InputType({
  description: 'A question on the passage with its reference answer (the SEAL reward is measured on them).',
})
export class PassageQuestionInput {
  @Field() @MinLength(1) @MaxLength(500) question!: string;
  @Field() @MinLength(1) @MaxLength(200) answer!: string;
  @Field(() => [String], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(10)
  @MaxLength(200, { each: true })
  aliases?: string[];
}

@InputType()
export class AddKnowledgeSourceInput {
  @Field()
  @MinLength(1)
  @MaxLength(300)
  title!: string;

  @Field({ description: `The passage text, at most ${MAX_PASSAGE_CHARS} characters.` })
  @MinLength(20, { message: 'passage must be at least 20 characters' })
  @MaxLength(MAX_PASSAGE_CHARS, { message: `passage must be at most ${MAX_PASSAGE_CHARS} characters` })
  passage!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @IsUrl({ require_protocol: true, require_tld: false })
  @MaxLength(2048)
  sourceUri?: string;

  @Field(() => ProvenanceInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => ProvenanceInput)
  provenance?: ProvenanceInput;

  @Field(() => [PassageQuestionInput], {
    nullable: true,
    description:
      'Questions on the passage with reference answers; the evaluation gates measure the gain on them.',
  })
  @IsOptional()
  @ArrayMaxSize(MAX_PASSAGE_QUESTIONS)
  @ValidateNested({ each: true })
  @Type(() => PassageQuestionInput)
  questions?: PassageQuestionInput[];
}
