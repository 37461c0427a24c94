import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum ServingErrorCode {
  /** `model` names neither a channel nor an adapter version. */
  MODEL_NOT_FOUND = 'MODEL_NOT_FOUND',
  /** A request body the OpenAI-compatible API cannot serve (unknown role, wrong type, ...). */
  REQUEST_INVALID = 'REQUEST_INVALID',
  /**
   * `model` names an adapter version that was never approved and applied (a candidate, or one its gates
   * discarded), or a channel whose stack holds one: only what the approval workflow let through is served.
   */
  ADAPTER_NOT_SERVABLE = 'ADAPTER_NOT_SERVABLE',
}

/** Per-key limits (RATE_LIMITED, MAX_TOKENS_EXCEEDED, TOO_MANY_STREAMS) are KeyLimitError's, in src/auth/. */
export class ServingError extends defineDomainError<ServingErrorCode>('ServingError', {
  [ServingErrorCode.MODEL_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [ServingErrorCode.REQUEST_INVALID]: ErrorKind.BAD_USER_INPUT,
  [ServingErrorCode.ADAPTER_NOT_SERVABLE]: ErrorKind.FORBIDDEN,
}) {}
