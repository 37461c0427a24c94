import { registerEnumType } from '@nestjs/graphql';

/** The lifecycle of one proposed change to a model (docs/lifecycle.md). */
export enum SelfEditStatus {
  PROPOSED = 'PROPOSED',
  SCREENING = 'SCREENING',
  TRAINING = 'TRAINING',
  EVALUATING = 'EVALUATING',
  AWAITING_APPROVAL = 'AWAITING_APPROVAL',
  APPROVED = 'APPROVED',
  APPLIED = 'APPLIED',
  ROLLED_BACK = 'ROLLED_BACK',
  REJECTED_BY_GATE = 'REJECTED_BY_GATE',
  REJECTED = 'REJECTED',
  EXPIRED = 'EXPIRED',
  FAILED = 'FAILED',
}
registerEnumType(SelfEditStatus, { name: 'SelfEditStatus' });

const S = SelfEditStatus;

/**
 * Every legal move, and nothing else. FAILED is an infrastructure failure: it never counts as a pass and can
 * only restart the pipeline from the beginning (PROPOSED), so no gate is ever skipped by a retry.
 */
export const allowedTransitions: Record<SelfEditStatus, readonly SelfEditStatus[]> = {
  [S.PROPOSED]: [S.SCREENING, S.FAILED, S.EXPIRED],
  [S.SCREENING]: [S.TRAINING, S.REJECTED_BY_GATE, S.FAILED],
  [S.TRAINING]: [S.EVALUATING, S.FAILED],
  [S.EVALUATING]: [S.AWAITING_APPROVAL, S.REJECTED_BY_GATE, S.FAILED],
  [S.AWAITING_APPROVAL]: [S.APPROVED, S.REJECTED, S.EXPIRED],
  [S.APPROVED]: [S.APPLIED, S.FAILED],
  [S.APPLIED]: [S.ROLLED_BACK],
  [S.FAILED]: [S.PROPOSED],
  [S.ROLLED_BACK]: [],
  [S.REJECTED_BY_GATE]: [],
  [S.REJECTED]: [],
  [S.EXPIRED]: [],
};

export function canTransition(from: SelfEditStatus, to: SelfEditStatus): boolean {
  return allowedTransitions[from].includes(to);
}

export function isTerminal(status: SelfEditStatus): boolean {
  return allowedTransitions[status].length === 0;
}
