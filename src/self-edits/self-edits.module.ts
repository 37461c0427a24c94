import { Module } from '@nestjs/common';
import { ChannelsModule } from 'src/channels/channels.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { PipelineLauncher } from 'src/self-edits/pipeline-launcher';
import { SelfEditsRepository } from 'src/self-edits/self-edits.repository';
import { SelfEditsResolver } from 'src/self-edits/self-edits.resolver';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

@Module({
  imports: [ChannelsModule, KnowledgeModule],
  providers: [PipelineLauncher, SelfEditsRepository, SelfEditsService, SelfEditsResolver],
  // The worker's pipeline recovery finds stuck edits and restarts them through the launcher.
  exports: [PipelineLauncher, SelfEditsRepository, SelfEditsService],
})
export class SelfEditsModule {}
