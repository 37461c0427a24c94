import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ApprovalDecision } from 'src/approvals/approval-decision';
import { ApprovalEntity } from 'src/approvals/approval.entity';
import { ApprovalError, ApprovalErrorCode } from 'src/approvals/approvals.errors';
import { ApprovalsRepository, isDuplicateDecision } from 'src/approvals/approvals.repository';
import { approversOf, requiredApprovals, reviewExpiresAt } from 'src/approvals/approval-rules';
import { ApprovalSigner } from 'src/approvals/approval-attestation';
import { ReviewEvidenceService } from 'src/approvals/review-evidence.service';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

export interface Decision {
  decision: ApprovalDecision;
  /** A comment on an approval; the reason of a rejection (required). */
  text?: string | null;
}

/**
 * Human review of edits that passed their gates. The channel policy sets the quorum (more when a gate warned or
 * a protected entity is touched), the expiry and whether an approval needs a comment; access.yaml says who may
 * decide, and a reviewer never decides on their own proposal.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly repository: ApprovalsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
    private readonly edits: SelfEditsService,
    private readonly review: ReviewEvidenceService,
    private readonly signer: ApprovalSigner,
  ) {}

  forEdit(selfEditId: string, manager?: EntityManager): Promise<ApprovalEntity[]> {
    return this.repository.forEdit(selfEditId, manager);
  }

  /** Moves every open review past its channel's expiry to EXPIRED; returns how many. */
  async expireOverdue(actor: Actor, now = new Date()): Promise<number> {
    const open = await this.edits.withStatus(SelfEditStatus.AWAITING_APPROVAL);
    let expired = 0;
    for (const edit of open) {
      const { policy } = await this.review.policyOf(edit);
      if (now.getTime() <= reviewExpiresAt(edit, policy).getTime()) continue;
      await this.edits.transition(actor, edit.id, SelfEditStatus.EXPIRED, 'review expired').then(
        () => expired++,
        () => undefined, // decided or moved meanwhile
      );
    }
    return expired;
  }

  async decide(ctx: AuthContext, selfEditId: string, { decision, text }: Decision): Promise<SelfEditEntity> {
    const edit = await this.edits.get(selfEditId);
    ctx.assertCan(
      decision === ApprovalDecision.APPROVE ? Action.approve : Action.reject,
      Subject.SelfEdit,
      edit,
    );
    if (ctx.actor.id === edit.proposedById) {
      throw new ApprovalError(
        ApprovalErrorCode.OWN_PROPOSAL,
        'Separation of duties: nobody decides on their own proposal',
      );
    }
    if (edit.status !== SelfEditStatus.AWAITING_APPROVAL) {
      throw new ApprovalError(
        ApprovalErrorCode.NOT_AWAITING_APPROVAL,
        `Self-edit ${selfEditId} is ${edit.status}; only an edit AWAITING_APPROVAL can be decided`,
        { status: edit.status },
      );
    }
    const { channel, policy } = await this.review.policyOf(edit);
    const comment = text?.trim() || null;
    if (decision === ApprovalDecision.REJECT && !comment) {
      throw new ApprovalError(ApprovalErrorCode.REASON_REQUIRED, 'A rejection needs a reason');
    }
    if (decision === ApprovalDecision.APPROVE && policy.commentRequired && !comment) {
      throw new ApprovalError(
        ApprovalErrorCode.COMMENT_REQUIRED,
        `Channel ${channel.name} requires a comment with every approval`,
      );
    }
    const expiresAt = reviewExpiresAt(edit, policy);
    if (Date.now() > expiresAt.getTime()) {
      await this.edits.transition(ctx.actor, selfEditId, SelfEditStatus.EXPIRED, 'review expired');
      throw new ApprovalError(
        ApprovalErrorCode.REVIEW_EXPIRED,
        `The review of ${selfEditId} expired at ${expiresAt.toISOString()}; propose the edit again`,
      );
    }
    const reports = await this.review.reportsOf(edit);
    const key = await this.signer.keyOf(ctx.actor.id!);
    try {
      return await this.transactions.run(async (manager) => {
        const approval = Object.assign(new ApprovalEntity(), {
          id: randomUUID(),
          selfEditId,
          pipelineRun: edit.pipelineRun,
          reviewerId: ctx.actor.id!,
          decision,
          comment,
          createdAt: new Date(),
        });
        await this.repository.insert(manager, approval);
        await this.signer.sign(manager, ctx.actor, key, { approval, edit, reports });
        await this.audit.append(manager, ctx.actor, {
          action:
            decision === ApprovalDecision.APPROVE
              ? AuditAction.SELF_EDIT_APPROVED
              : AuditAction.SELF_EDIT_REJECTED,
          subjectType: Subject.SelfEdit,
          subjectId: selfEditId,
          after: { pipelineRun: edit.pipelineRun, comment },
        });
        if (decision === ApprovalDecision.REJECT) {
          return this.edits.transitionIn(manager, ctx.actor, selfEditId, SelfEditStatus.REJECTED, comment);
        }
        const approvals = await this.forEdit(selfEditId, manager);
        const needed = requiredApprovals({ edit, reports, approval: policy });
        const have = approversOf({ edit, approvals }).length;
        if (have < needed) return edit;
        return this.edits.transitionIn(
          manager,
          ctx.actor,
          selfEditId,
          SelfEditStatus.APPROVED,
          `${have} of ${needed} approvals`,
        );
      });
    } catch (err) {
      if (isDuplicateDecision(err)) {
        throw new ApprovalError(
          ApprovalErrorCode.ALREADY_DECIDED,
          `You have already decided on run ${edit.pipelineRun} of ${selfEditId}`,
        );
      }
      throw err;
    }
  }
}
