import { Module } from '@nestjs/common';
import { ChannelsModule } from 'src/channels/channels.module';
import { AdapterStore } from 'src/inference/adapter-store';
import { ModelService } from 'src/inference/model.service';
import { ServingStackService } from 'src/inference/serving-stack.service';

@Module({
  imports: [ChannelsModule],
  providers: [ModelService, AdapterStore, ServingStackService],
  exports: [ModelService, AdapterStore, ServingStackService],
})
export class InferenceModule {}
