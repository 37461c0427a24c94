import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum SigningErrorCode {
  /** A PEM that is not a key, or a key of a type or curve sealgate does not use. */
  INVALID_KEY = 'INVALID_KEY',
  /** An envelope, bundle or statement that does not have the shape its format requires. */
  MALFORMED = 'MALFORMED',
  /** The same key tried to sign an envelope twice. */
  ALREADY_SIGNED = 'ALREADY_SIGNED',
  /** A signature is missing or does not verify with the trusted keys. */
  SIGNATURE_INVALID = 'SIGNATURE_INVALID',
  /** A file is missing, changed, or not covered by the signature. */
  DIGEST_MISMATCH = 'DIGEST_MISMATCH',
  /** A symlink or special file where model signing allows only regular files and folders. */
  UNSUPPORTED_FILE = 'UNSUPPORTED_FILE',
}

export class SigningError extends defineDomainError<SigningErrorCode>('SigningError', {
  [SigningErrorCode.INVALID_KEY]: ErrorKind.BAD_USER_INPUT,
  [SigningErrorCode.MALFORMED]: ErrorKind.BAD_USER_INPUT,
  [SigningErrorCode.ALREADY_SIGNED]: ErrorKind.CONFLICT,
  // Stored data that no longer matches its signature: the state is wrong, not the request.
  [SigningErrorCode.SIGNATURE_INVALID]: ErrorKind.CONFLICT,
  [SigningErrorCode.DIGEST_MISMATCH]: ErrorKind.CONFLICT,
  [SigningErrorCode.UNSUPPORTED_FILE]: ErrorKind.BAD_USER_INPUT,
}) {}
