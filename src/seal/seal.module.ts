import { Module } from '@nestjs/common';
import { ChannelsModule } from 'src/channels/channels.module';
import { InferenceModule } from 'src/inference/inference.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { KnowledgeProposalsService } from 'src/seal/knowledge-proposals.service';
import { SealResolver } from 'src/seal/seal.resolver';
import { SelfEditWriter } from 'src/seal/self-edit-writer';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';

/** SEAL in the gateway: the model writes its own self-edits, which then go through the gated lifecycle. */
@Module({
  imports: [ChannelsModule, InferenceModule, KnowledgeModule, SelfEditsModule],
  providers: [SelfEditWriter, KnowledgeProposalsService, SealResolver],
})
export class SealModule {}
