import { ArgsType, Field, Int } from '@nestjs/graphql';
import { IsInt, Max, Min } from 'class-validator';

/** The largest page any list serves; a list may serve less (its own validation says so). */
export const MAX_PAGE_SIZE = 500;

/**
 * The range of each paging argument, whatever list takes it. The query cost limit prices a list by its `limit`,
 * so an operation with a value outside these is refused before anything runs (a negative limit would make the
 * price negative and let other fields through unpriced).
 */
export const PAGING_ARGUMENT_RANGES: Readonly<Record<string, { min: number; max: number }>> = {
  limit: { min: 1, max: MAX_PAGE_SIZE },
  offset: { min: 0, max: Number.MAX_SAFE_INTEGER },
  afterSeq: { min: 0, max: Number.MAX_SAFE_INTEGER },
};

@ArgsType()
export class PageArgs {
  @Field(() => Int, { defaultValue: 50 })
  @IsInt()
  @Min(1)
  @Max(200)
  limit = 50;

  @Field(() => Int, { defaultValue: 0 })
  @IsInt()
  @Min(0)
  offset = 0;
}
