import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';
import { RequestId, TRAINER_ERROR_CODES } from 'src/training/trainer-protocol';

export enum TrainerErrorCode {
  // Answered by the trainer.
  BAD_REQUEST = 'BAD_REQUEST',
  NOT_FOUND = 'NOT_FOUND',
  BAD_MODEL = 'BAD_MODEL',
  BAD_ADAPTER = 'BAD_ADAPTER',
  CANCELLED = 'CANCELLED',
  DIVERGED = 'DIVERGED',
  OUT_OF_MEMORY = 'OUT_OF_MEMORY',
  INTERNAL = 'INTERNAL',
  // Raised by the client.
  TRAINER_EXITED = 'TRAINER_EXITED',
  TRAINER_START_TIMEOUT = 'TRAINER_START_TIMEOUT',
  TRAINER_PROTOCOL = 'TRAINER_PROTOCOL',
}

export class TrainerError extends defineDomainError<TrainerErrorCode>('TrainerError', {
  [TrainerErrorCode.BAD_REQUEST]: ErrorKind.BAD_USER_INPUT,
  [TrainerErrorCode.NOT_FOUND]: ErrorKind.NOT_FOUND,
  [TrainerErrorCode.BAD_MODEL]: ErrorKind.INTERNAL_SERVER_ERROR,
  [TrainerErrorCode.BAD_ADAPTER]: ErrorKind.CONFLICT,
  [TrainerErrorCode.CANCELLED]: ErrorKind.CONFLICT,
  [TrainerErrorCode.DIVERGED]: ErrorKind.BAD_USER_INPUT,
  [TrainerErrorCode.OUT_OF_MEMORY]: ErrorKind.UNAVAILABLE,
  [TrainerErrorCode.INTERNAL]: ErrorKind.INTERNAL_SERVER_ERROR,
  [TrainerErrorCode.TRAINER_EXITED]: ErrorKind.UNAVAILABLE,
  [TrainerErrorCode.TRAINER_START_TIMEOUT]: ErrorKind.UNAVAILABLE,
  [TrainerErrorCode.TRAINER_PROTOCOL]: ErrorKind.INTERNAL_SERVER_ERROR,
}) {
  /** A trainer's error line; a code this client does not know becomes INTERNAL. */
  static fromTrainer(requestId: RequestId, code: string, message: string): TrainerError {
    const known = (TRAINER_ERROR_CODES as readonly string[]).includes(code);
    return new TrainerError(known ? (code as TrainerErrorCode) : TrainerErrorCode.INTERNAL, message, {
      requestId,
      trainerCode: code,
    });
  }
}
