import { Args, Resolver, Subscription } from '@nestjs/graphql';
import { Auth, CheckPolicy, LimitedAsGeneration } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { GenerateInput } from 'src/inference/dto/generate.input';
import { GenerationChunkModel } from 'src/serving/generation-chunk.model';
import { GenerationStreamService } from 'src/serving/generation-stream.service';

@Resolver()
export class GenerationStreamResolver {
  constructor(private readonly streams: GenerationStreamService) {}

  @Subscription(() => GenerationChunkModel, {
    description:
      'Text generated token by token (graphql-ws; the API key goes in connection_init as { authorization: "Bearer sg_..." }). Per-key limits and back-pressure as on /v1: refusals are errors with extensions.code TOO_MANY_REQUESTS.',
    resolve: (chunk: GenerationChunkModel) => chunk,
  })
  @CheckPolicy(Action.query, Subject.Model)
  @LimitedAsGeneration()
  generateStream(
    @Auth() auth: AuthContext,
    @Args('input') input: GenerateInput,
  ): Promise<AsyncIterableIterator<GenerationChunkModel>> {
    return this.streams.start(auth, input);
  }
}
