import { ArgsType, Field } from '@nestjs/graphql';
import { IsEnum, IsOptional, MaxLength } from 'class-validator';
import { PageArgs } from 'src/common/pagination.args';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';

@ArgsType()
export class SelfEditsArgs extends PageArgs {
  @Field(() => SelfEditStatus, { nullable: true })
  @IsOptional()
  @IsEnum(SelfEditStatus)
  status?: SelfEditStatus;

  @Field(() => String, { nullable: true, description: 'Channel name.' })
  @IsOptional()
  @MaxLength(64)
  channel?: string;
}
