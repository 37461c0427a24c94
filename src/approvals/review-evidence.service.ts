import { Injectable } from '@nestjs/common';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { approversOf, requiredApprovals, reviewExpiresAt } from 'src/approvals/approval-rules';
import { ApprovalsRepository } from 'src/approvals/approvals.repository';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsService } from 'src/channels/channels.service';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { ApprovalPolicy } from 'src/gates/policy/channel-policy';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

/** Everything a reviewer decides on, and where the review of the edit's latest run stands. */
export interface ReviewEvidence {
  edit: SelfEditEntity;
  source: KnowledgeSourceEntity | null;
  /** The gate reports of the latest run. */
  reports: GateReportEntity[];
  /** The decisions on the latest run. */
  approvals: ApprovalEntity[];
  requiredApprovals: number;
  approvedBy: string[];
  /** While the review is open. */
  expiresAt: Date | null;
}

/** What a review rests on: the channel's approval policy, the latest run's gate reports and decisions. */
@Injectable()
export class ReviewEvidenceService {
  constructor(
    private readonly edits: SelfEditsService,
    private readonly knowledge: KnowledgeService,
    private readonly channels: ChannelsService,
    private readonly policies: ChannelPolicyService,
    private readonly reports: GateReportsService,
    private readonly approvals: ApprovalsRepository,
  ) {}

  /** The edit's channel and that channel's approval policy. */
  async policyOf(
    edit: Pick<SelfEditEntity, 'channelId'>,
  ): Promise<{ channel: ChannelEntity; policy: ApprovalPolicy }> {
    const channel = await this.channels.get(edit.channelId);
    return { channel, policy: this.policies.forChannel(channel.name).approval };
  }

  /** The gate reports of the edit's latest run, oldest first. */
  reportsOf(edit: Pick<SelfEditEntity, 'id' | 'pipelineRun'>): Promise<GateReportEntity[]> {
    return this.reports.forEdit(edit.id, edit.pipelineRun);
  }

  async of(selfEditId: string): Promise<ReviewEvidence> {
    const edit = await this.edits.get(selfEditId);
    const { policy } = await this.policyOf(edit);
    const reports = await this.reportsOf(edit);
    const approvals = (await this.approvals.forEdit(edit.id)).filter(
      (a) => a.pipelineRun === edit.pipelineRun,
    );
    const source = edit.knowledgeSourceId ? await this.knowledge.get(edit.knowledgeSourceId) : null;
    const open = edit.status === SelfEditStatus.AWAITING_APPROVAL;
    return {
      edit,
      source,
      reports,
      approvals,
      requiredApprovals: requiredApprovals({ edit, reports, approval: policy }),
      approvedBy: approversOf({ edit, approvals }),
      expiresAt: open ? reviewExpiresAt(edit, policy) : null,
    };
  }
}
