import canonicalize from 'canonicalize';
import { sha256Hex } from 'src/common/sha256';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an event that its hash covers. */
export interface ChainedContent {
  seq: number;
  actorId: string | null;
  actorName: string;
  action: string;
  subjectType: string;
  subjectId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  at: string;
}

/** What a stored event's hash covers: its fields, with the time as ISO text and absent JSON as null. */
export function chainedContentOf(
  event: Omit<ChainedContent, 'at' | 'before' | 'after'> & { at: Date; before?: unknown; after?: unknown },
): ChainedContent {
  return {
    seq: event.seq,
    actorId: event.actorId,
    actorName: event.actorName,
    action: event.action,
    subjectType: event.subjectType,
    subjectId: event.subjectId,
    before: event.before ?? null,
    after: event.after ?? null,
    requestId: event.requestId,
    at: event.at.toISOString(),
  };
}

/**
 * hash = SHA-256(prevHash || JCS(content)), with JCS the RFC 8785 canonical JSON, so any verifier in any
 * language can recompute it from an export.
 */
export function chainHash(prevHash: string, content: ChainedContent): string {
  return sha256Hex(prevHash + (canonicalize(content) ?? ''));
}

/** Values are stored as JSON; normalising first makes what is hashed equal to what is read back. */
export function asStoredJson(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}
