import { ArgsType, Field, ID } from '@nestjs/graphql';
import { IsEnum, IsOptional, IsUUID, MaxLength } from 'class-validator';
import { PageArgs } from 'src/common/pagination.args';
import { SealRoundStatus } from 'src/seal/rounds/seal-round.types';

@ArgsType()
export class SealRoundsArgs extends PageArgs {
  @Field(() => SealRoundStatus, { nullable: true })
  @IsOptional()
  @IsEnum(SealRoundStatus)
  status?: SealRoundStatus;

  @Field(() => String, { nullable: true, description: 'Channel name.' })
  @IsOptional()
  @MaxLength(64)
  channel?: string;

  @Field(() => ID, {
    nullable: true,
    description: 'The generator self-edit a round proposed: the round behind an edit under review.',
  })
  @IsOptional()
  @IsUUID()
  selfEditId?: string;
}
