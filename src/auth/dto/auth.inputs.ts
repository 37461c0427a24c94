import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { IsEnum, IsInt, IsOptional, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Role } from 'src/auth/role';

@InputType()
export class CreatePrincipalInput {
  @Field({ description: 'Unique; letters, digits, dot, dash, underscore, @.' })
  @MinLength(2)
  @MaxLength(100)
  @Matches(/^[A-Za-z0-9._@-]+$/, { message: 'name may contain only letters, digits and . _ @ -' })
  name!: string;

  @Field(() => Role)
  @IsEnum(Role)
  role!: Role;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => ID)
  @IsUUID()
  principalId!: string;

  @Field()
  @MinLength(1)
  @MaxLength(100)
  label!: string;

  @Field(() => Int, { nullable: true, description: 'Days until the key stops working; omit for no expiry.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(3650)
  expiresInDays?: number;
}
