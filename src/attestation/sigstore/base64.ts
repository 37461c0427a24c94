const STANDARD_ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE_ALPHABET = /^[A-Za-z0-9_-]*={0,2}$/;

/** Standard base64 with padding (RFC 4648 section 4), as DSSE, Sigstore bundles and signed notes write it. */
export const encodeBase64 = (bytes: Buffer): string => bytes.toString('base64');

/**
 * Decodes standard or URL-safe base64 (DSSE verifiers must accept both), or returns undefined. Stricter than
 * `Buffer.from(text, 'base64')`, which skips characters it does not know: a text that does not encode its bytes
 * canonically is refused, so no two different texts pass as the same signature.
 */
export function decodeBase64(text: string): Buffer | undefined {
  const urlSafe = !STANDARD_ALPHABET.test(text);
  if (urlSafe && !URL_SAFE_ALPHABET.test(text)) return undefined;
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length !== text.length && text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, urlSafe ? 'base64url' : 'base64');
  const canonical = bytes.toString(urlSafe ? 'base64url' : 'base64').replace(/=+$/, '');
  return canonical === unpadded ? bytes : undefined;
}
