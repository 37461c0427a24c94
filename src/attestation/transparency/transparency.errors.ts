import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum TransparencyErrorCode {
  /** A proof asked for a leaf or a tree size the log does not have. */
  INVALID_PROOF_REQUEST = 'INVALID_PROOF_REQUEST',
  /** A checkpoint that is not a well-formed signed note with a tlog-checkpoint body. */
  MALFORMED_CHECKPOINT = 'MALFORMED_CHECKPOINT',
  /** A signature by a trusted key that does not verify, or no signature by a trusted key at all. */
  CHECKPOINT_NOT_TRUSTED = 'CHECKPOINT_NOT_TRUSTED',
  /** The log is not an extension of a checkpoint the gateway signed earlier: a logged event was rewritten. */
  LOG_INCONSISTENT = 'LOG_INCONSISTENT',
}

export class TransparencyError extends defineDomainError<TransparencyErrorCode>('TransparencyError', {
  [TransparencyErrorCode.INVALID_PROOF_REQUEST]: ErrorKind.BAD_USER_INPUT,
  [TransparencyErrorCode.MALFORMED_CHECKPOINT]: ErrorKind.BAD_USER_INPUT,
  [TransparencyErrorCode.CHECKPOINT_NOT_TRUSTED]: ErrorKind.CONFLICT,
  [TransparencyErrorCode.LOG_INCONSISTENT]: ErrorKind.CONFLICT,
}) {}
