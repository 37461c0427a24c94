import { Module } from '@nestjs/common';
import { ApprovalsModule } from 'src/approvals/approvals.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { GatesModule } from 'src/gates/gates.module';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { LineageGraphService } from 'src/lineage/graph/lineage-graph.service';
import { LineageResolver } from 'src/lineage/lineage.resolver';
import { InferenceModule } from 'src/inference/inference.module';
import { TransparencyResolver } from 'src/lineage/transparency/transparency.resolver';
import { LineageService } from 'src/lineage/lineage.service';
import { RevertGates } from 'src/lineage/revert/revert-gates';
import { RevertService } from 'src/lineage/revert/revert.service';
import { SigningModule } from 'src/lineage/signing.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';

@Module({
  imports: [
    ApprovalsModule,
    ChannelsModule,
    GatesModule,
    InferenceModule,
    KnowledgeModule,
    SelfEditsModule,
    SigningModule,
  ],
  providers: [
    LineageService,
    LineageGraphService,
    RevertGates,
    RevertService,
    LineageResolver,
    AuditBundleExporter,
    TransparencyResolver,
  ],
  exports: [LineageService, AuditBundleExporter],
})
export class LineageModule {}
