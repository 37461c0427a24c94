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
