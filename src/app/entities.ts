import { ApiKeyEntity } from 'src/auth/api-key.entity';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { ChannelEntity } from 'src/channels/channel.entity';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { AttestationEntity } from 'src/attestation/attestation.entity';
import { SigningKeyEntity } from 'src/attestation/keys/signing-key.entity';
import { LogCheckpointEntity } from 'src/attestation/transparency/log-checkpoint.entity';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { WebhookOutboxEntity } from 'src/approvals/webhook-outbox.entity';

export const entities = [
  PrincipalEntity,
  ApiKeyEntity,
  ChannelEntity,
  KnowledgeSourceEntity,
  SelfEditEntity,
  GateReportEntity,
  ApprovalEntity,
  AdapterVersionEntity,
  AuditEventEntity,
  SigningKeyEntity,
  AttestationEntity,
  SealRoundEntity,
  LogCheckpointEntity,
  WebhookOutboxEntity,
];
