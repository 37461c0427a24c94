import { Module } from '@nestjs/common';
import { ApprovalSigner } from 'src/approvals/approval-attestation';
import { ApprovalsRepository } from 'src/approvals/approvals.repository';
import { ApprovalsResolver } from 'src/approvals/approvals.resolver';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { ReviewEvidenceResolver } from 'src/approvals/review-evidence.resolver';
import { ReviewEvidenceService } from 'src/approvals/review-evidence.service';
import { ReviewNotifications } from 'src/approvals/review-notifications';
import { ReviewWebhook } from 'src/approvals/review-webhook';
import { WebhookOutboxRepository } from 'src/approvals/webhook-outbox.repository';
import { ReviewNotificationsResolver } from 'src/approvals/review-notifications.resolver';
import { ChannelsModule } from 'src/channels/channels.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { GatesModule } from 'src/gates/gates.module';
import { AttestationModule } from 'src/attestation/attestation.module';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';

@Module({
  imports: [ChannelsModule, GatesModule, KnowledgeModule, SelfEditsModule, AttestationModule],
  providers: [
    ApprovalsRepository,
    ApprovalSigner,
    ReviewEvidenceService,
    ApprovalsService,
    ApprovalsResolver,
    ReviewEvidenceResolver,
    ReviewNotifications,
    ReviewNotificationsResolver,
    ReviewWebhook,
    WebhookOutboxRepository,
  ],
  exports: [ApprovalsService, ReviewNotifications],
})
export class ApprovalsModule {}
