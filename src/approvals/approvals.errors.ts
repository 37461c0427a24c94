import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum ApprovalErrorCode {
  NOT_AWAITING_APPROVAL = 'NOT_AWAITING_APPROVAL',
  ALREADY_DECIDED = 'ALREADY_DECIDED',
  COMMENT_REQUIRED = 'COMMENT_REQUIRED',
  REASON_REQUIRED = 'REASON_REQUIRED',
  REVIEW_EXPIRED = 'REVIEW_EXPIRED',
  /** Separation of duties, whatever the role: nobody decides on their own proposal. */
  OWN_PROPOSAL = 'OWN_PROPOSAL',
}

export class ApprovalError extends defineDomainError<ApprovalErrorCode>('ApprovalError', {
  [ApprovalErrorCode.NOT_AWAITING_APPROVAL]: ErrorKind.CONFLICT,
  [ApprovalErrorCode.ALREADY_DECIDED]: ErrorKind.CONFLICT,
  [ApprovalErrorCode.COMMENT_REQUIRED]: ErrorKind.BAD_USER_INPUT,
  [ApprovalErrorCode.REASON_REQUIRED]: ErrorKind.BAD_USER_INPUT,
  [ApprovalErrorCode.REVIEW_EXPIRED]: ErrorKind.CONFLICT,
  [ApprovalErrorCode.OWN_PROPOSAL]: ErrorKind.FORBIDDEN,
}) {}
