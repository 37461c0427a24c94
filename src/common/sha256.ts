import { createHash } from 'node:crypto';

/** SHA-256 in hex of text (as UTF-8) or bytes. */
export const sha256Hex = (data: string | Buffer): string =>
  createHash('sha256')
    .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    .digest('hex');
