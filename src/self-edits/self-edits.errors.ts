import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum SelfEditErrorCode {
  ILLEGAL_TRANSITION = 'ILLEGAL_TRANSITION',
  STALE_VERSION = 'STALE_VERSION',
  KNOWLEDGE_SOURCE_REQUIRED = 'KNOWLEDGE_SOURCE_REQUIRED',
  HYPERPARAMETERS_NOT_ALLOWED = 'HYPERPARAMETERS_NOT_ALLOWED',
  /** The model wrote no self-edit text from the passage (every sample was empty). */
  NO_SELF_EDIT_WRITTEN = 'NO_SELF_EDIT_WRITTEN',
  /** A `generator` self-edit comes only from a ReST-EM round (startSealRound), never from a proposal. */
  GENERATOR_ONLY_FROM_ROUND = 'GENERATOR_ONLY_FROM_ROUND',
}

export class SelfEditError extends defineDomainError<SelfEditErrorCode>('SelfEditError', {
  [SelfEditErrorCode.ILLEGAL_TRANSITION]: ErrorKind.CONFLICT,
  [SelfEditErrorCode.STALE_VERSION]: ErrorKind.CONFLICT,
  [SelfEditErrorCode.KNOWLEDGE_SOURCE_REQUIRED]: ErrorKind.BAD_USER_INPUT,
  [SelfEditErrorCode.HYPERPARAMETERS_NOT_ALLOWED]: ErrorKind.BAD_USER_INPUT,
  [SelfEditErrorCode.NO_SELF_EDIT_WRITTEN]: ErrorKind.UNAVAILABLE,
  [SelfEditErrorCode.GENERATOR_ONLY_FROM_ROUND]: ErrorKind.BAD_USER_INPUT,
}) {}
