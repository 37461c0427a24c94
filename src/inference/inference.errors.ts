import { defineDomainError } from 'src/common/errors/domain-error';
import { ErrorKind } from 'src/common/errors/error-kind';

export enum InferenceErrorCode {
  /** The model folder is missing a file or holds an unsupported configuration. */
  MODEL_INVALID = 'MODEL_INVALID',
  /** The model is still loading or failed to load. */
  MODEL_UNAVAILABLE = 'MODEL_UNAVAILABLE',
  /** An adapter folder that cannot be served: missing file, bad shapes, dtypes, values or size. */
  ADAPTER_INVALID = 'ADAPTER_INVALID',
  /** A content-addressed adapter folder whose files no longer hash to its address: it is never served. */
  ADAPTER_TAMPERED = 'ADAPTER_TAMPERED',
  /** A prompt or generation setting out of bounds. */
  GENERATION_INVALID = 'GENERATION_INVALID',
  /** The serving queue is full: refused at once rather than queued without bound. */
  OVERLOADED = 'OVERLOADED',
  /** The caller went away (or aborted) before its generation finished. */
  GENERATION_CANCELLED = 'GENERATION_CANCELLED',
}

export class InferenceError extends defineDomainError<InferenceErrorCode>('InferenceError', {
  [InferenceErrorCode.MODEL_INVALID]: ErrorKind.INTERNAL_SERVER_ERROR,
  [InferenceErrorCode.MODEL_UNAVAILABLE]: ErrorKind.UNAVAILABLE,
  [InferenceErrorCode.ADAPTER_INVALID]: ErrorKind.BAD_USER_INPUT,
  [InferenceErrorCode.ADAPTER_TAMPERED]: ErrorKind.UNAVAILABLE,
  [InferenceErrorCode.GENERATION_INVALID]: ErrorKind.BAD_USER_INPUT,
  [InferenceErrorCode.OVERLOADED]: ErrorKind.TOO_MANY_REQUESTS,
  [InferenceErrorCode.GENERATION_CANCELLED]: ErrorKind.BAD_USER_INPUT,
}) {}
