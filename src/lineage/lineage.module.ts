import { Module } from '@nestjs/common';
import { AdapterVersionsModule } from 'src/adapter-versions/adapter-versions.module';
import { ApprovalsModule } from 'src/approvals/approvals.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { GatesModule } from 'src/gates/gates.module';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { LineageGraphService } from 'src/lineage/graph/lineage-graph.service';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { AuditTrailResolver } from 'src/lineage/audit-trail.resolver';
import { LineageResolver } from 'src/lineage/lineage.resolver';
import { InferenceModule } from 'src/inference/inference.module';
import { TransparencyResolver } from 'src/attestation/transparency/transparency.resolver';
import { LineageService } from 'src/lineage/lineage.service';
import { RevertGates } from 'src/lineage/revert/revert-gates';
import { RevertService } from 'src/lineage/revert/revert.service';
import { AttestationModule } from 'src/attestation/attestation.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';

@Module({
  imports: [
    AdapterVersionsModule,
    ApprovalsModule,
    ChannelsModule,
    GatesModule,
    InferenceModule,
    KnowledgeModule,
    SelfEditsModule,
    AttestationModule,
  ],
  providers: [
    LineageService,
    LineageSigner,
    LineageGraphService,
    RevertGates,
    RevertService,
    LineageResolver,
    AuditBundleExporter,
    TransparencyResolver,
    AuditTrailResolver,
  ],
  exports: [LineageService, AuditBundleExporter],
})
export class LineageModule {}
