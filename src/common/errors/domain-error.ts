import { ErrorKind } from 'src/common/errors/error-kind';

/**
 * Base of every module's error class. `code` is the module's own enum value (the precise reason, stable for
 * clients to switch on); `kind` is derived from it through the module's exhaustive kind map.
 */
export abstract class DomainError<Code extends string = string> extends Error {
  abstract readonly kind: ErrorKind;

  protected constructor(
    readonly code: Code,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Builds a module error class whose kind comes from an exhaustive `Record<Code, ErrorKind>`. */
export function defineDomainError<Code extends string>(name: string, kinds: Record<Code, ErrorKind>) {
  const cls = class extends DomainError<Code> {
    readonly kind: ErrorKind;
    constructor(code: Code, message: string, details?: Record<string, unknown>) {
      super(code, message, details);
      this.kind = kinds[code];
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}

/** Errors that several modules raise in the same way. */
export enum CommonErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  NOT_FOUND = 'NOT_FOUND',
  CONCURRENT_MODIFICATION = 'CONCURRENT_MODIFICATION',
  ALREADY_EXISTS = 'ALREADY_EXISTS',
  /** Text holding U+0000, which PostgreSQL cannot store (src/common/nul-character.pipe.ts). */
  NUL_CHARACTER = 'NUL_CHARACTER',
}

export class CommonError extends defineDomainError<CommonErrorCode>('CommonError', {
  [CommonErrorCode.VALIDATION_FAILED]: ErrorKind.BAD_USER_INPUT,
  [CommonErrorCode.NOT_FOUND]: ErrorKind.NOT_FOUND,
  [CommonErrorCode.CONCURRENT_MODIFICATION]: ErrorKind.CONFLICT,
  [CommonErrorCode.ALREADY_EXISTS]: ErrorKind.CONFLICT,
  [CommonErrorCode.NUL_CHARACTER]: ErrorKind.BAD_USER_INPUT,
}) {
  static notFound(subject: string, id: string): CommonError {
    return new CommonError(CommonErrorCode.NOT_FOUND, `${subject} ${id} was not found`, { subject, id });
  }
}
