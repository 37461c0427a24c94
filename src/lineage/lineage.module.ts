import { Module } from '@nestjs/common';
import { AdapterVersionsModule } from 'src/adapter-versions/adapter-versions.module';
import { ApprovalsModule } from 'src/approvals/approvals.module';
import { ChannelsModule } from 'src/channels/channels.module';
import { GatesModule } from 'src/gates/gates.module';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { BundleLog } from 'src/lineage/audit-bundle/bundle-log';
import { ApplyService } from 'src/lineage/apply.service';
import { ChannelHeads } from 'src/lineage/channel-heads';
import { EditRecords } from 'src/lineage/edit-records';
import { LineageGraphService } from 'src/lineage/graph/lineage-graph.service';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { AuditTrailResolver } from 'src/lineage/audit-trail.resolver';
import { LineageResolver } from 'src/lineage/lineage.resolver';
import { InferenceModule } from 'src/inference/inference.module';
import { TransparencyResolver } from 'src/attestation/transparency/transparency.resolver';
import { RevertGates } from 'src/lineage/revert/revert-gates';
import { RevertService } from 'src/lineage/revert/revert.service';
import { RollbackService } from 'src/lineage/rollback.service';
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
    ChannelHeads,
    EditRecords,
    LineageSigner,
    ApplyService,
    RollbackService,
    LineageGraphService,
    RevertGates,
    RevertService,
    LineageResolver,
    AuditBundleExporter,
    BundleLog,
    TransparencyResolver,
    AuditTrailResolver,
  ],
  exports: [AuditBundleExporter],
})
export class LineageModule {}
