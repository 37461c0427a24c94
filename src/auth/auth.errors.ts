import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum AuthErrorCode {
  MISSING_CREDENTIALS = 'MISSING_CREDENTIALS',
  INVALID_API_KEY = 'INVALID_API_KEY',
  API_KEY_EXPIRED = 'API_KEY_EXPIRED',
  API_KEY_REVOKED = 'API_KEY_REVOKED',
  PRINCIPAL_DISABLED = 'PRINCIPAL_DISABLED',
  ACCESS_DENIED = 'ACCESS_DENIED',
  NO_POLICY = 'NO_POLICY',
  PRINCIPAL_NAME_TAKEN = 'PRINCIPAL_NAME_TAKEN',
  ALREADY_BOOTSTRAPPED = 'ALREADY_BOOTSTRAPPED',
}

export class AuthError extends defineDomainError<AuthErrorCode>('AuthError', {
  [AuthErrorCode.MISSING_CREDENTIALS]: ErrorKind.UNAUTHENTICATED,
  [AuthErrorCode.INVALID_API_KEY]: ErrorKind.UNAUTHENTICATED,
  [AuthErrorCode.API_KEY_EXPIRED]: ErrorKind.UNAUTHENTICATED,
  [AuthErrorCode.API_KEY_REVOKED]: ErrorKind.UNAUTHENTICATED,
  [AuthErrorCode.PRINCIPAL_DISABLED]: ErrorKind.UNAUTHENTICATED,
  [AuthErrorCode.ACCESS_DENIED]: ErrorKind.FORBIDDEN,
  [AuthErrorCode.NO_POLICY]: ErrorKind.FORBIDDEN,
  [AuthErrorCode.PRINCIPAL_NAME_TAKEN]: ErrorKind.CONFLICT,
  [AuthErrorCode.ALREADY_BOOTSTRAPPED]: ErrorKind.CONFLICT,
}) {}

export enum KeyLimitErrorCode {
  /** The API key's request rate (token bucket) is spent; details.retryAfterSeconds says when a token is back. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** More tokens asked for than one request of this key may generate. */
  MAX_TOKENS_EXCEEDED = 'MAX_TOKENS_EXCEEDED',
  /** The API key already holds its number of concurrent streams. */
  TOO_MANY_STREAMS = 'TOO_MANY_STREAMS',
}

/**
 * Per-key limits (KeyLimitsService) answer 429 (TOO_MANY_REQUESTS) and name the limit in details.limit;
 * MAX_TOKENS_EXCEEDED is one too, as a per-key limit, though retrying the same request will not help (ask for
 * fewer tokens).
 */
export class KeyLimitError extends defineDomainError<KeyLimitErrorCode>('KeyLimitError', {
  [KeyLimitErrorCode.RATE_LIMITED]: ErrorKind.TOO_MANY_REQUESTS,
  [KeyLimitErrorCode.MAX_TOKENS_EXCEEDED]: ErrorKind.TOO_MANY_REQUESTS,
  [KeyLimitErrorCode.TOO_MANY_STREAMS]: ErrorKind.TOO_MANY_REQUESTS,
}) {}
