import { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { AttestationKind } from 'src/attestation/attestation.entity';
import { APPROVAL_PREDICATE_TYPE, AttestationsService } from 'src/attestation/attestations.service';
import { KeysService } from 'src/attestation/keys/keys.service';
import { IN_TOTO_STATEMENT_TYPE, Statement } from 'src/attestation/sigstore/in-toto';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { GateReportEntity } from 'src/gates/gate-report.entity';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';

/** Approvers' signatures over their decisions. */
@Injectable()
export class ApprovalSigner {
  constructor(
    private readonly keys: KeysService,
    private readonly attestations: AttestationsService,
  ) {}

  /** The reviewer's current signing key, created on first use (outside the decision's transaction). */
  async keyOf(reviewerId: string): Promise<KeyObject> {
    return (await this.keys.signer(reviewerId)).key;
  }

  /** The approver's own signature over their decision and the reports they decided on (also a log leaf). */
  sign(
    manager: EntityManager,
    actor: Actor,
    key: KeyObject,
    decided: { approval: ApprovalEntity; edit: SelfEditEntity; reports: GateReportEntity[] },
  ): Promise<unknown> {
    const statement = approvalStatement(decided.approval, decided.edit, decided.reports);
    return this.attestations.sign(
      manager,
      actor,
      AttestationKind.APPROVAL,
      decided.approval.id,
      statement,
      key,
    );
  }
}

/** What an approver signs: the edit's content, the decision, and the digests of the reports in front of them. */
export function approvalStatement(
  approval: Pick<ApprovalEntity, 'id' | 'selfEditId' | 'pipelineRun' | 'reviewerId' | 'decision' | 'comment'>,
  edit: Pick<SelfEditEntity, 'contentSha256'>,
  reports: Pick<GateReportEntity, 'gate' | 'sha256'>[],
): Statement {
  return {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject: [{ name: `self-edit/${approval.selfEditId}`, digest: { sha256: edit.contentSha256 } }],
    predicateType: APPROVAL_PREDICATE_TYPE,
    predicate: {
      approvalId: approval.id,
      selfEditId: approval.selfEditId,
      pipelineRun: approval.pipelineRun,
      reviewerId: approval.reviewerId,
      decision: approval.decision,
      comment: approval.comment,
      gateReports: reports.map((r) => ({ gate: r.gate, sha256: r.sha256 })),
    },
  };
}
