/** What a client should do about an error; becomes GraphQL `extensions.code`. */
export enum ErrorKind {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** A body in a charset or content encoding the gateway does not read. */
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** A rate, concurrency or capacity limit; the details say which and when to retry. */
  TOO_MANY_REQUESTS = 'TOO_MANY_REQUESTS',
  UNAVAILABLE = 'UNAVAILABLE',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** HTTP status that goes with each kind, for REST endpoints and transport-level GraphQL errors. */
export const httpStatusOf: Record<ErrorKind, number> = {
  [ErrorKind.BAD_USER_INPUT]: 400,
  [ErrorKind.UNAUTHENTICATED]: 401,
  [ErrorKind.FORBIDDEN]: 403,
  [ErrorKind.NOT_FOUND]: 404,
  [ErrorKind.CONFLICT]: 409,
  [ErrorKind.PAYLOAD_TOO_LARGE]: 413,
  [ErrorKind.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorKind.QUERY_TOO_COMPLEX]: 400,
  [ErrorKind.TOO_MANY_REQUESTS]: 429,
  [ErrorKind.UNAVAILABLE]: 503,
  [ErrorKind.INTERNAL_SERVER_ERROR]: 500,
};
