import { Field, InputType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsISO8601, IsOptional, IsUrl, MaxLength, MinLength, ValidateNested } from 'class-validator';

/** Largest passage accepted; SEAL passages are paragraphs, not documents. */
export const MAX_PASSAGE_CHARS = 20_000;

@InputType()
export class ProvenanceInput {
  @Field(() => String, { nullable: true }) @IsOptional() @IsISO8601() retrievedAt?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) license?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(200) publisher?: string;
  @Field(() => String, { nullable: true }) @IsOptional() @MaxLength(2000) notes?: string;
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
}
