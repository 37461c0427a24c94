import { Module } from '@nestjs/common';
import { KnowledgeRepository } from 'src/knowledge/knowledge.repository';
import { KnowledgeResolver } from 'src/knowledge/knowledge.resolver';
import { KnowledgeService } from 'src/knowledge/knowledge.service';

@Module({
  providers: [KnowledgeRepository, KnowledgeService, KnowledgeResolver],
  exports: [KnowledgeRepository, KnowledgeService],
})
export class KnowledgeModule {}
