import { DynamicModule, Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AdapterVersionsModule } from 'src/adapter-versions/adapter-versions.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { InferenceModule } from 'src/inference/inference.module';
import { KeyLimitsService, SERVING_REDIS } from 'src/serving/key-limits.service';
import { OpenAiController } from 'src/serving/openai/openai.controller';
import { OpenAiService } from 'src/serving/openai/openai.service';
import { ServingService } from 'src/serving/serving.service';
import { GenerationResolver } from 'src/serving/generation.resolver';
import { GenerationStreamResolver } from 'src/serving/generation-stream.resolver';
import { GenerationStreamService } from 'src/serving/generation-stream.service';

/** Serving adapted models to product services: the OpenAI-compatible API, per-key limits, the GraphQL stream. */
@Module({})
export class ServingModule {
  static forRoot(redisUrl: string): DynamicModule {
    return {
      module: ServingModule,
      imports: [InferenceModule, ChannelsModule, AdapterVersionsModule],
      controllers: [OpenAiController],
      providers: [
        // Its own connection: limit checks are short commands that must not queue behind BullMQ's blocking ones.
        { provide: SERVING_REDIS, useFactory: () => new Redis(redisUrl, { maxRetriesPerRequest: 2 }) },
        KeyLimitsService,
        ServingService,
        OpenAiService,
        GenerationStreamService,
        GenerationStreamResolver,
        GenerationResolver,
      ],
      exports: [ServingService],
    };
  }
}
