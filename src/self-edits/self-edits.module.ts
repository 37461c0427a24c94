import { Module } from '@nestjs/common';
import { ChannelsModule } from 'src/channels/channels.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { PipelineModule } from 'src/pipeline/pipeline.module';
import { SelfEditsRepository } from 'src/self-edits/self-edits.repository';
import { SelfEditsResolver } from 'src/self-edits/self-edits.resolver';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

@Module({
  imports: [ChannelsModule, KnowledgeModule, PipelineModule],
  providers: [SelfEditsRepository, SelfEditsService, SelfEditsResolver],
  exports: [SelfEditsService],
})
export class SelfEditsModule {}
