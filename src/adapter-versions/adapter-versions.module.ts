import { Module } from '@nestjs/common';
import { ServingStackService } from 'src/adapter-versions/serving-stack.service';
import { ChannelsModule } from 'src/channels/channels.module';
import { InferenceModule } from 'src/inference/inference.module';

/** Adapter versions: their records, the walk up their parents, and the stack a channel serves. */
@Module({
  imports: [ChannelsModule, InferenceModule],
  providers: [ServingStackService],
  exports: [ServingStackService],
})
export class AdapterVersionsModule {}
