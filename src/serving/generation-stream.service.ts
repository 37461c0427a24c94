import { Injectable } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import { AuthContext } from 'src/auth/auth-context';
import { clientErrorFor } from 'src/common/errors/all-exceptions.filter';
import { GenerateInput, samplingOf } from 'src/inference/dto/generate.input';
import { ChunkQueue } from 'src/serving/chunk-queue';
import { GenerationChunkModel } from 'src/serving/generation-chunk.model';
import { ServingOutcome, ServingService } from 'src/serving/serving.service';

const textChunk = (index: number, text: string): GenerationChunkModel => ({
  index,
  text,
  done: false,
  finishReason: null,
  promptTokens: null,
  completionTokens: null,
  servedBy: null,
});

/** Token-by-token generation for the GraphQL subscription, over the same serving path as the HTTP API. */
@Injectable()
export class GenerationStreamService {
  constructor(private readonly serving: ServingService) {}

  /**
   * Starts a generation and returns its chunks. It resolves once the first text is there (or the generation
   * ended), so a refusal (a limit, a full queue, an unknown channel) is the subscription's error, not a chunk.
   */
  async start(auth: AuthContext, input: GenerateInput): Promise<AsyncIterableIterator<GenerationChunkModel>> {
    const controller = new AbortController();
    const chunks = new ChunkQueue<GenerationChunkModel>(() => controller.abort());
    const outcome = this.serving.generate(auth, {
      target: { channel: input.channel, adapterVersionId: input.adapterVersionId },
      prompts: Array<string>(input.samples).fill(input.prompt),
      params: samplingOf(input),
      signal: controller.signal,
      onText: (index, text) => chunks.push(textChunk(index, text)),
    });
    await Promise.race([chunks.started, outcome]);
    outcome.then(
      (done) => {
        for (const chunk of finalChunks(done)) chunks.push(chunk);
        chunks.end();
      },
      (err: unknown) => {
        const error = clientErrorFor(err, auth.requestId);
        chunks.fail(
          new GraphQLError(error.message, {
            extensions: {
              code: error.kind,
              reason: error.reason,
              details: error.details,
              requestId: auth.requestId,
            },
          }),
        );
      },
    );
    return chunks;
  }
}

function finalChunks({ results, servedBy }: ServingOutcome): GenerationChunkModel[] {
  return results.map((r, index) => ({
    index,
    text: '',
    done: true,
    finishReason: r.finishReason,
    promptTokens: r.promptTokens,
    completionTokens: r.tokenIds.length,
    servedBy,
  }));
}
