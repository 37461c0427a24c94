import { Field, InputType } from '@nestjs/graphql';
import { IsOptional, Matches, MaxLength, MinLength } from 'class-validator';

@InputType()
export class CreateChannelInput {
  @Field({ description: 'Lower-case letters, digits and dashes, e.g. prod or staging.' })
  @Matches(/^[a-z][a-z0-9-]{1,63}$/, { message: 'name must be 2-64 lower-case letters, digits or dashes' })
  name!: string;

  @Field({ description: 'The base model folder name under models/.' })
  @MinLength(1)
  @MaxLength(200)
  baseModel!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(2000)
  description?: string;
}
