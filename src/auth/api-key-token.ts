import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256Hex } from 'src/common/sha256';

/**
 * Tokens look like `sg_<prefix>_<secret>`: the prefix finds the key, the whole token is hashed with SHA-256
 * (enough for 256-bit random secrets; nothing to brute-force) and compared in constant time.
 */
const TOKEN_PATTERN = /^sg_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface NewToken {
  token: string;
  prefix: string;
  secretHash: string;
}

export function newApiKeyToken(): NewToken {
  const prefix = randomBytes(6).toString('hex');
  const token = `sg_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, prefix, secretHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return sha256Hex(token);
}

export function parseToken(token: string): { prefix: string } | null {
  const match = TOKEN_PATTERN.exec(token);
  return match ? { prefix: match[1] } : null;
}

export function tokenMatches(token: string, secretHash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(secretHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
