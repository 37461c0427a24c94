import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { ChannelPolicy } from 'src/gates/policy/channel-policy';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';
import { KnowledgeRepository } from 'src/knowledge/knowledge.repository';
import { AdapterRevert } from 'src/adapter-versions/adapter-version.entity';
import { AttestationEntity } from 'src/attestation/attestation.entity';
import { AttestationsService } from 'src/attestation/attestations.service';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditsRepository } from 'src/self-edits/self-edits.repository';

/** Oldest first, by id on a tie (the order every list of these records is read in). */
const byCreation = (a: { createdAt: Date; id: string }, b: { createdAt: Date; id: string }): number =>
  a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** What an edit rests on as stored, by the applying rules (`ApplyEvidence` in approval-rules.ts). */
export interface StoredApplyEvidence {
  edit: SelfEditEntity;
  /** The edit's passage; null for an edit without one. */
  source: KnowledgeSourceEntity | null;
  /** The gates the channel's policy requires now (both stages). */
  requiredGates: string[];
  reports: GateReportEntity[];
  approvals: ApprovalEntity[];
  approval: ChannelPolicy['approval'];
}

/** Everything an edit rests on, as stored. */
export interface EditRecordsOf {
  edits: SelfEditEntity[];
  sources: KnowledgeSourceEntity[];
  reports: GateReportEntity[];
  approvals: ApprovalEntity[];
}

/**
 * What lineage reads about edits, from the modules that own it: the edits, their passages, their gate reports
 * and approvals, and the signed statements about any of them.
 */
@Injectable()
export class EditRecords {
  constructor(
    private readonly edits: SelfEditsRepository,
    private readonly knowledge: KnowledgeRepository,
    private readonly reports: GateReportsService,
    private readonly approvals: ApprovalsService,
    private readonly attestations: AttestationsService,
  ) {}

  /** The edit as it stands in `manager`'s transaction, with every report and approval of it and the policy's rules. */
  async forApply(
    manager: EntityManager,
    selfEditId: string,
    policy: ChannelPolicy,
  ): Promise<StoredApplyEvidence> {
    const edit = (await this.edits.findById(selfEditId, manager))!;
    return {
      edit,
      source: edit.knowledgeSourceId ? await this.knowledge.findById(edit.knowledgeSourceId, manager) : null,
      requiredGates: [...policy.gates.screening, ...policy.gates.evaluation].map((g) => g.gate.name),
      reports: await this.reports.forEdit(selfEditId, undefined, manager),
      approvals: await this.approvals.forEdit(selfEditId, manager),
      approval: policy.approval,
    };
  }

  /** The edits of `ids`, their passages, and all their gate reports and approvals (each list oldest first). */
  async of(ids: string[]): Promise<EditRecordsOf> {
    const edits = await this.edits.findByIds(ids);
    const sourceIds = edits.flatMap((e) => (e.knowledgeSourceId ? [e.knowledgeSourceId] : []));
    const reports: GateReportEntity[] = [];
    const approvals: ApprovalEntity[] = [];
    for (const id of new Set(ids)) {
      reports.push(...(await this.reports.forEdit(id)));
      approvals.push(...(await this.approvals.forEdit(id)));
    }
    return {
      edits,
      sources: await this.knowledge.findByIds(sourceIds),
      reports: reports.sort(byCreation),
      approvals: approvals.sort(byCreation),
    };
  }

  /** The gate reports a revert re-ran (stored against the edit it removed), oldest first. */
  async revertReports(revert: AdapterRevert): Promise<GateReportEntity[]> {
    const ids = new Set(revert.gateReportIds);
    return (await this.reports.forEdit(revert.removedSelfEditId)).filter((r) => ids.has(r.id));
  }

  /** The signed statements about any of `subjectIds`, oldest first. */
  attestationsAbout(subjectIds: string[]): Promise<AttestationEntity[]> {
    return this.attestations.about(subjectIds);
  }
}
