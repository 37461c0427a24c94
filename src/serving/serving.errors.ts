import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum ServingErrorCode {
  /** The API key's request rate (token bucket) is spent; details.retryAfterSeconds says when a token is back. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** More tokens asked for than one request of this key may generate. */
  MAX_TOKENS_EXCEEDED = 'MAX_TOKENS_EXCEEDED',
  /** The API key already holds its number of concurrent streams. */
  TOO_MANY_STREAMS = 'TOO_MANY_STREAMS',
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

/**
 * Per-key limits answer 429 (TOO_MANY_REQUESTS) and name the limit in details.limit; MAX_TOKENS_EXCEEDED is one
 * too, as a per-key limit, though retrying the same request will not help (ask for fewer tokens).
 */
export class ServingError extends defineDomainError<ServingErrorCode>('ServingError', {
  [ServingErrorCode.RATE_LIMITED]: ErrorKind.TOO_MANY_REQUESTS,
  [ServingErrorCode.MAX_TOKENS_EXCEEDED]: ErrorKind.TOO_MANY_REQUESTS,
  [ServingErrorCode.TOO_MANY_STREAMS]: ErrorKind.TOO_MANY_REQUESTS,
  [ServingErrorCode.MODEL_NOT_FOUND]: ErrorKind.NOT_FOUND,
  [ServingErrorCode.REQUEST_INVALID]: ErrorKind.BAD_USER_INPUT,
  [ServingErrorCode.ADAPTER_NOT_SERVABLE]: ErrorKind.FORBIDDEN,
}) {}
