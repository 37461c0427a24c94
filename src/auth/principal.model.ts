import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { ApiKeyEntity, limitsOf } from 'src/auth/api-key.entity';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { Role } from 'src/auth/role';

@ObjectType('Principal', { description: 'A person or service that calls the gateway with API keys.' })
export class PrincipalModel {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => Role) role!: Role;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) disabledAt!: Date | null;

  static from(e: PrincipalEntity): PrincipalModel {
    return Object.assign(new PrincipalModel(), {
      id: e.id,
      name: e.name,
      role: e.role,
      createdAt: e.createdAt,
      disabledAt: e.disabledAt,
    });
  }
}

@ObjectType('ApiKey', { description: 'An API key. The secret is never returned after creation.' })
export class ApiKeyModel {
  @Field(() => ID) id!: string;
  @Field(() => ID) principalId!: string;
  @Field() label!: string;
  @Field({ description: 'Public part of the token (sg_<prefix>_...), to tell keys apart.' }) prefix!: string;
  @Field() createdAt!: Date;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
  @Field({ description: 'Neither revoked nor expired.' }) active!: boolean;
  @Field(() => Int, {
    nullable: true,
    description:
      "This key's request rate, for generation and, separately, for every other call (token buckets refilled at this many per minute, each holding up to this many or its default burst, KEY_RATE_BURST or KEY_API_RATE_BURST, whichever is less); null: the gateway defaults (KEY_RATE_PER_SECOND, KEY_RATE_BURST; KEY_API_RATE_PER_SECOND, KEY_API_RATE_BURST).",
  })
  requestsPerMinute!: number | null;
  @Field(() => Int, {
    nullable: true,
    description:
      "This key's limit on max_tokens per request; null: the gateway default (KEY_MAX_TOKENS_PER_REQUEST).",
  })
  maxTokensPerRequest!: number | null;
  @Field(() => Int, {
    nullable: true,
    description:
      "This key's limit on concurrent streams; null: the gateway default (KEY_MAX_CONCURRENT_STREAMS).",
  })
  maxConcurrentStreams!: number | null;

  static from(e: ApiKeyEntity, now = new Date()): ApiKeyModel {
    return Object.assign(new ApiKeyModel(), {
      id: e.id,
      principalId: e.principalId,
      label: e.label,
      prefix: e.prefix,
      createdAt: e.createdAt,
      expiresAt: e.expiresAt,
      revokedAt: e.revokedAt,
      lastUsedAt: e.lastUsedAt,
      active: !e.revokedAt && (!e.expiresAt || e.expiresAt > now),
      ...limitsOf(e),
    });
  }
}

@ObjectType('CreatedApiKey')
export class CreatedApiKeyModel {
  @Field(() => ApiKeyModel) apiKey!: ApiKeyModel;
  @Field({ description: 'The bearer token. Shown this once; only its hash is stored.' }) token!: string;
}
