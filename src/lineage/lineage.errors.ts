import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum LineageErrorCode {
  /** Gates, approvals or status do not allow it; `details.blockers` says why. */
  NOT_APPLICABLE = 'NOT_APPLICABLE',
  NO_CANDIDATE = 'NO_CANDIDATE',
  HEAD_MOVED = 'HEAD_MOVED',
  NOT_IN_LINEAGE = 'NOT_IN_LINEAGE',
  REASON_REQUIRED = 'REASON_REQUIRED',
  STALE_CHANNEL = 'STALE_CHANNEL',
  /** The version to revert is the head (rollbackChannel removes it), or holds no single edit. */
  NOT_REVERTIBLE = 'NOT_REVERTIBLE',
  /** A gate the channel policy requires failed on the stack without the edit; `details.verdicts` says which. */
  REVERT_GATE_FAILED = 'REVERT_GATE_FAILED',
}

export class LineageError extends defineDomainError<LineageErrorCode>('LineageError', {
  [LineageErrorCode.NOT_APPLICABLE]: ErrorKind.CONFLICT,
  [LineageErrorCode.NO_CANDIDATE]: ErrorKind.CONFLICT,
  [LineageErrorCode.HEAD_MOVED]: ErrorKind.CONFLICT,
  [LineageErrorCode.NOT_IN_LINEAGE]: ErrorKind.BAD_USER_INPUT,
  [LineageErrorCode.REASON_REQUIRED]: ErrorKind.BAD_USER_INPUT,
  [LineageErrorCode.STALE_CHANNEL]: ErrorKind.CONFLICT,
  [LineageErrorCode.NOT_REVERTIBLE]: ErrorKind.BAD_USER_INPUT,
  [LineageErrorCode.REVERT_GATE_FAILED]: ErrorKind.CONFLICT,
}) {}
