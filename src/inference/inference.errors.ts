import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum InferenceErrorCode {
  /** The model folder is missing a file or holds an unsupported configuration. */
  MODEL_INVALID = 'MODEL_INVALID',
  /** The model is still loading or failed to load. */
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  /** An adapter folder that cannot be served: missing file, bad shapes, dtypes, values or size. */
  ADAPTER_INVALID = 'ADAPTER_INVALID',
  /** A prompt or generation setting out of bounds. */
  GENERATION_INVALID = 'GENERATION_INVALID',
}

export class InferenceError extends defineDomainError<InferenceErrorCode>('InferenceError', {
  [InferenceErrorCode.MODEL_INVALID]: ErrorKind.INTERNAL_SERVER_ERROR,
  [InferenceErrorCode.MODEL_UNAVAILABLE]: ErrorKind.UNAVAILABLE,
  [InferenceErrorCode.ADAPTER_INVALID]: ErrorKind.BAD_USER_INPUT,
  [InferenceErrorCode.GENERATION_INVALID]: ErrorKind.BAD_USER_INPUT,
}) {}
