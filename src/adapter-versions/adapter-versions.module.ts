import { Module } from '@nestjs/common';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { ModelSignatures } from 'src/adapter-versions/model-signatures';
import { ServingStackService } from 'src/adapter-versions/serving-stack.service';
import { AttestationModule } from 'src/attestation/attestation.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { InferenceModule } from 'src/inference/inference.module';

/** Adapter versions: their records, the walk up their parents, and the stack a channel serves. */
@Module({
  imports: [AttestationModule, ChannelsModule, InferenceModule],
  providers: [AdapterVersionsRepository, ModelSignatures, ServingStackService],
  exports: [AdapterVersionsRepository, ModelSignatures, ServingStackService],
})
export class AdapterVersionsModule {}
