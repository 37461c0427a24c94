import { Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { LossOn, SelfEditKind } from 'src/self-edits/self-edit.types';

/** Hard limits of the input type; channel policies narrow them further (gates). */
@InputType()
export class TrainingHyperparametersInput {
  @Field(() => Float, { nullable: true })
  @IsOptional()
  @IsNumber()
  @Min(1e-6)
  @Max(1e-2)
  learningRate?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(50) epochs?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(256) rank?: number;
  @Field(() => Int, { nullable: true }) @IsOptional() @IsInt() @Min(1) @Max(512) alpha?: number;
  @Field(() => LossOn, { nullable: true }) @IsOptional() @IsEnum(LossOn) lossOn?: LossOn;
}

@InputType()
export class ProposeSelfEditInput {
  @Field({ description: 'Channel whose model the edit would change.' })
  @MinLength(1)
  @MaxLength(64)
  channel!: string;

  @Field(() => ID, { nullable: true, description: 'The passage the edit was derived from.' })
  @IsOptional()
  @IsUUID()
  knowledgeSourceId?: string;

  @Field(() => SelfEditKind)
  @IsEnum(SelfEditKind)
  kind!: SelfEditKind;

  @Field({ description: 'The training data: one statement per line.' })
  @MinLength(1)
  @MaxLength(20_000)
  content!: string;

  @Field(() => TrainingHyperparametersInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => TrainingHyperparametersInput)
  hyperparameters?: TrainingHyperparametersInput;
}
