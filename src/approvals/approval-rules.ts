import { ApprovalDecision } from 'src/approvals/approval-decision';
import { GateVerdict } from 'src/gates/gate-verdict';
import { ApprovalPolicy } from 'src/gates/policy/channel-policy';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';

/** The metric the knowledge-conflict gate reports when a claim touches an entity the channel protects. */
export const PROTECTED_ENTITY_METRIC = 'protectedClaims';

const HOUR_MS = 3_600_000;

/** When an open review expires: the policy's hours from the edit's last move (into AWAITING_APPROVAL). */
export function reviewExpiresAt(
  edit: { updatedAt: Date },
  approval: Pick<ApprovalPolicy, 'expiresAfterHours'>,
): Date {
  return new Date(edit.updatedAt.getTime() + approval.expiresAfterHours * HOUR_MS);
}

/** Everything the decision to apply an edit rests on, as stored. */
export interface ApplyEvidence {
  edit: { status: SelfEditStatus; pipelineRun: number; proposedById: string };
  /** The gates the channel's policy requires now (both stages). */
  requiredGates: string[];
  reports: { gate: string; verdict: GateVerdict; pipelineRun: number; metrics: Record<string, number> }[];
  approvals: { reviewerId: string; decision: ApprovalDecision; pipelineRun: number }[];
  approval: ApprovalPolicy;
}

/** How many approvals the current run needs: more when a gate warned or a protected entity is touched. */
export function requiredApprovals(evidence: Pick<ApplyEvidence, 'edit' | 'reports' | 'approval'>): number {
  const run = evidence.reports.filter((r) => r.pipelineRun === evidence.edit.pipelineRun);
  const elevated = run.some(
    (r) => r.verdict === GateVerdict.WARN || (r.metrics[PROTECTED_ENTITY_METRIC] ?? 0) > 0,
  );
  return elevated ? evidence.approval.quorumOnWarn : evidence.approval.quorum;
}

/** Distinct reviewers who approved the current run, never counting the proposer. */
export function approversOf(evidence: Pick<ApplyEvidence, 'edit' | 'approvals'>): string[] {
  const approvers = evidence.approvals
    .filter((a) => a.pipelineRun === evidence.edit.pipelineRun && a.decision === ApprovalDecision.APPROVE)
    .map((a) => a.reviewerId)
    .filter((id) => id !== evidence.edit.proposedById);
  return [...new Set(approvers)];
}

/**
 * Why an edit may not reach its channel; empty when it may. The invariant of the gateway: every gate the
 * policy requires passed (or warned) in the edit's latest run, none failed, and enough distinct reviewers
 * other than the proposer approved that run. Checked again at the moment of applying, from stored rows.
 */
export function applyBlockers(evidence: ApplyEvidence): string[] {
  const blockers: string[] = [];
  const { edit } = evidence;
  if (edit.status !== SelfEditStatus.APPROVED) blockers.push(`the edit is ${edit.status}, not APPROVED`);
  const run = evidence.reports.filter((r) => r.pipelineRun === edit.pipelineRun);
  for (const gate of evidence.requiredGates) {
    const reports = run.filter((r) => r.gate === gate);
    if (reports.length === 0) blockers.push(`gate ${gate} has no report in run ${edit.pipelineRun}`);
    else if (reports.some((r) => r.verdict === GateVerdict.FAIL)) blockers.push(`gate ${gate} failed`);
  }
  for (const failed of run.filter(
    (r) => r.verdict === GateVerdict.FAIL && !evidence.requiredGates.includes(r.gate),
  )) {
    blockers.push(`gate ${failed.gate} failed`);
  }
  if (
    evidence.approvals.some(
      (a) => a.pipelineRun === edit.pipelineRun && a.decision === ApprovalDecision.REJECT,
    )
  ) {
    blockers.push('a reviewer rejected it');
  }
  const needed = requiredApprovals(evidence);
  const approvers = approversOf(evidence).length;
  if (approvers < needed) blockers.push(`${approvers} of ${needed} required approvals`);
  return blockers;
}
