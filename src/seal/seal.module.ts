import { Module } from '@nestjs/common';
import { AdapterVersionsModule } from 'src/adapter-versions/adapter-versions.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { InferenceModule } from 'src/inference/inference.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { KnowledgeProposalsService } from 'src/seal/knowledge-proposals.service';
import { GeneratorUpdates } from 'src/seal/rounds/generator-updates';
import { SealRoundStates } from 'src/seal/rounds/seal-round-states';
import { SealRoundNotifications } from 'src/seal/rounds/seal-round-notifications';
import { SealRoundsRepository } from 'src/seal/rounds/seal-rounds.repository';
import { SealRoundsResolver } from 'src/seal/rounds/seal-rounds.resolver';
import { SealRoundsService } from 'src/seal/rounds/seal-rounds.service';
import { SealResolver } from 'src/seal/seal.resolver';
import { SelfEditWriter } from 'src/seal/self-edit-writer';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';

/**
 * SEAL in the gateway: the model writes its own self-edits, which then go through the gated lifecycle; ReST-EM
 * rounds update the self-edit generator, and that update goes through the same lifecycle. The rounds' worker side
 * (SealRoundJobs, SealProcessor) is loaded by WorkerModule.
 */
@Module({
  imports: [AdapterVersionsModule, ChannelsModule, InferenceModule, KnowledgeModule, SelfEditsModule],
  providers: [
    SelfEditWriter,
    KnowledgeProposalsService,
    SealResolver,
    SealRoundsRepository,
    SealRoundsService,
    SealRoundsResolver,
    SealRoundNotifications,
    SealRoundStates,
    GeneratorUpdates,
  ],
  exports: [SealRoundsRepository, SealRoundNotifications, SealRoundStates, GeneratorUpdates],
})
export class SealModule {}
