import { gunzip } from 'node:zlib';
import { toClientError } from 'src/common/errors/error-mapper';
import { ErrorKind } from 'src/common/errors/error-kind';

/** What body-parser hands to the error middleware (an http-errors error): a status, `expose` below 500, fields. */
const bodyError = (err: Error, status: number, fields: Record<string, unknown> = {}) =>
  Object.assign(err, { status, statusCode: status, expose: status < 500, ...fields });

describe('toClientError for body-reading errors', () => {
  it('maps an unsupported charset and content encoding to 415 with their reasons', () => {
    expect(
      toClientError(bodyError(new Error('x'), 415, { type: 'charset.unsupported', charset: 'latin1' })),
    ).toEqual({
      kind: ErrorKind.UNSUPPORTED_MEDIA_TYPE,
      reason: 'UNSUPPORTED_CHARSET',
      message: 'Request body charset "latin1" is not supported; send UTF-8',
    });
    expect(
      toClientError(bodyError(new Error('x'), 415, { type: 'encoding.unsupported', encoding: 'br2' })),
    ).toMatchObject({ kind: ErrorKind.UNSUPPORTED_MEDIA_TYPE, reason: 'UNSUPPORTED_CONTENT_ENCODING' });
  });

  it('maps a corrupt compressed body (a zlib error with a 400 status and no type) to BAD_USER_INPUT', async () => {
    const zlibError = await new Promise<Error>((resolve) =>
      gunzip(Buffer.from('not gzip'), (err) => resolve(err!)),
    );
    expect(toClientError(bodyError(zlibError, 400))).toEqual({
      kind: ErrorKind.BAD_USER_INPUT,
      reason: 'UNREADABLE_BODY',
      message: 'Request body could not be read (corrupt compressed data or an interrupted upload)',
    });
  });

  it('leaves a server-side fault (5xx, not exposed) unmapped, for the caller to log', () => {
    expect(toClientError(bodyError(new Error('x'), 500, { type: 'stream.encoding.set' }))).toBeUndefined();
  });
});
