import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum SealRoundErrorCode {
  /** The reward is measured on a passage's questions: a passage without them cannot take part. */
  PASSAGE_WITHOUT_QUESTIONS = 'PASSAGE_WITHOUT_QUESTIONS',
  /** The same knowledge source was named twice. */
  DUPLICATE_PASSAGE = 'DUPLICATE_PASSAGE',
  /** Only a QUEUED or RUNNING round can be cancelled. */
  ROUND_NOT_LIVE = 'ROUND_NOT_LIVE',
  /** The round could not be put on the queue; it is FAILED and can be started again. */
  NOT_QUEUED = 'NOT_QUEUED',
}

export class SealRoundError extends defineDomainError<SealRoundErrorCode>('SealRoundError', {
  [SealRoundErrorCode.PASSAGE_WITHOUT_QUESTIONS]: ErrorKind.BAD_USER_INPUT,
  [SealRoundErrorCode.DUPLICATE_PASSAGE]: ErrorKind.BAD_USER_INPUT,
  [SealRoundErrorCode.ROUND_NOT_LIVE]: ErrorKind.CONFLICT,
  [SealRoundErrorCode.NOT_QUEUED]: ErrorKind.UNAVAILABLE,
}) {}
