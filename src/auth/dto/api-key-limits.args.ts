import { ArgsType, Field, ID, Int } from '@nestjs/graphql';
import { IsInt, IsOptional, IsUUID, Max, Min } from 'class-validator';

/** Overrides of one key's limits; an omitted or null limit falls back to the gateway default. */
@ArgsType()
export class SetApiKeyLimitsArgs {
  @Field(() => ID)
  @IsUUID()
  apiKeyId!: string;

  @Field(() => Int, { nullable: true, description: 'Requests per minute; null: the default.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60_000_000)
  requestsPerMinute?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Most max_tokens a request may ask for; null: the default.',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(32_768)
  maxTokensPerRequest?: number | null;

  @Field(() => Int, { nullable: true, description: 'Streams open at once; null: the default.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxConcurrentStreams?: number | null;
}
