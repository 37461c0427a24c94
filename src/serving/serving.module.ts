import { Module } from '@nestjs/common';
import { AdapterVersionsModule } from 'src/adapter-versions/adapter-versions.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { InferenceModule } from 'src/inference/inference.module';
import { OpenAiController } from 'src/serving/openai/openai.controller';
import { OpenAiService } from 'src/serving/openai/openai.service';
import { ServingService } from 'src/serving/serving.service';
import { GenerationResolver } from 'src/serving/generation.resolver';
import { GenerationStreamResolver } from 'src/serving/generation-stream.resolver';
import { GenerationStreamService } from 'src/serving/generation-stream.service';

/**
 * Serving adapted models to product services: the OpenAI-compatible API and the GraphQL stream. Per-key limits
 * (KeyLimitsService) come from KeyLimitsModule, in src/auth/, since AuthGuard limits every other call.
 */
@Module({
  imports: [InferenceModule, ChannelsModule, AdapterVersionsModule],
  controllers: [OpenAiController],
  providers: [
    ServingService,
    OpenAiService,
    GenerationStreamService,
    GenerationStreamResolver,
    GenerationResolver,
  ],
  exports: [ServingService],
})
export class ServingModule {}
