import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum GateErrorCode {
  INVALID_THRESHOLDS = 'INVALID_THRESHOLDS',
}

export class GateError extends defineDomainError<GateErrorCode>('GateError', {
  [GateErrorCode.INVALID_THRESHOLDS]: ErrorKind.BAD_USER_INPUT,
}) {}
