import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 of text (as UTF-8) or bytes. */
export const sha256Bytes = (data: string | Buffer): Buffer =>
  createHash('sha256')
    .update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
    .digest();

/** SHA-256 in hex of text (as UTF-8) or bytes. */
export const sha256Hex = (data: string | Buffer): string => sha256Bytes(data).toString('hex');

/** SHA-256 in hex of a file, streamed (model files can be gigabytes). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
