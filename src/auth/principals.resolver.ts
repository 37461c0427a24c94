import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ParseUUIDPipe } from '@nestjs/common';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { SetApiKeyLimitsArgs } from 'src/auth/dto/api-key-limits.args';
import { CreateApiKeyInput, CreatePrincipalInput } from 'src/auth/dto/auth.inputs';
import { Action, Subject } from 'src/auth/policy';
import { ApiKeyModel, CreatedApiKeyModel, PrincipalModel } from 'src/auth/principal.model';
import { PrincipalsService } from 'src/auth/principals.service';

const DAY_MS = 86_400_000;

@Resolver(() => PrincipalModel)
export class PrincipalsResolver {
  constructor(private readonly service: PrincipalsService) {}

  @Query(() => PrincipalModel, { description: 'The caller.' })
  @CheckPolicy(Action.read, Subject.Principal)
  me(@Auth() auth: AuthContext): PrincipalModel {
    return PrincipalModel.from(auth.principal);
  }

  @Query(() => [PrincipalModel])
  @CheckPolicy(Action.read, Subject.Principal)
  async principals(@Auth() auth: AuthContext): Promise<PrincipalModel[]> {
    return (await this.service.list(auth)).map((p) => PrincipalModel.from(p));
  }

  @Query(() => [ApiKeyModel])
  @CheckPolicy(Action.read, Subject.ApiKey)
  async apiKeys(
    @Auth() auth: AuthContext,
    @Args('principalId', { type: () => ID, nullable: true }, new ParseUUIDPipe({ optional: true }))
    principalId?: string,
  ): Promise<ApiKeyModel[]> {
    return (await this.service.listKeys(auth, principalId)).map((k) => ApiKeyModel.from(k));
  }

  @Mutation(() => PrincipalModel)
  @CheckPolicy(Action.create, Subject.Principal)
  async createPrincipal(
    @Auth() auth: AuthContext,
    @Args('input') input: CreatePrincipalInput,
  ): Promise<PrincipalModel> {
    return PrincipalModel.from(await this.service.create(auth, input.name, input.role));
  }

  @Mutation(() => PrincipalModel, {
    description: 'A disabled principal cannot authenticate with any of its keys.',
  })
  @CheckPolicy(Action.update, Subject.Principal)
  async setPrincipalDisabled(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
    @Args('disabled') disabled: boolean,
  ): Promise<PrincipalModel> {
    return PrincipalModel.from(await this.service.setDisabled(auth, id, disabled));
  }

  @Mutation(() => CreatedApiKeyModel)
  @CheckPolicy(Action.create, Subject.ApiKey)
  async createApiKey(
    @Auth() auth: AuthContext,
    @Args('input') input: CreateApiKeyInput,
  ): Promise<CreatedApiKeyModel> {
    const expiresAt = input.expiresInDays ? new Date(Date.now() + input.expiresInDays * DAY_MS) : null;
    const created = await this.service.createKey(auth, input.principalId, input.label, expiresAt);
    return { apiKey: ApiKeyModel.from(created.apiKey), token: created.token };
  }

  @Mutation(() => ApiKeyModel)
  @CheckPolicy(Action.revoke, Subject.ApiKey)
  async revokeApiKey(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
  ): Promise<ApiKeyModel> {
    return ApiKeyModel.from(await this.service.revokeKey(auth, id));
  }

  @Mutation(() => ApiKeyModel, {
    description:
      "Sets a key's own limits (request rate, max_tokens per request, concurrent streams); a null or omitted limit goes back to the gateway default. Audited.",
  })
  @CheckPolicy(Action.update, Subject.ApiKey)
  async setApiKeyLimits(@Auth() auth: AuthContext, @Args() args: SetApiKeyLimitsArgs): Promise<ApiKeyModel> {
    const { apiKeyId, requestsPerMinute, maxTokensPerRequest, maxConcurrentStreams } = args;
    return ApiKeyModel.from(
      await this.service.setKeyLimits(auth, apiKeyId, {
        requestsPerMinute: requestsPerMinute ?? null,
        maxTokensPerRequest: maxTokensPerRequest ?? null,
        maxConcurrentStreams: maxConcurrentStreams ?? null,
      }),
    );
  }
}
