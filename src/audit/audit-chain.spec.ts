import { chainHash, ChainedContent, GENESIS_HASH } from 'src/audit/audit-chain';

const event: ChainedContent = {
  seq: 1,
  actorId: null,
  actorName: 'system:test',
  action: 'channel.created',
  subjectType: 'Channel',
  subjectId: 'c1',
  before: null,
  after: { name: 'prod', b: 1, a: 2 },
  requestId: null,
  at: '2026-11-25T00:00:00.000Z',
};

describe('audit chain hash', () => {
  it('is independent of key order (RFC 8785 canonical JSON)', () => {
    expect(chainHash(GENESIS_HASH, event)).toBe(
      chainHash(GENESIS_HASH, { ...event, after: { a: 2, b: 1, name: 'prod' } }),
    );
  });

  it('changes with any field and with the previous hash', () => {
    const base = chainHash(GENESIS_HASH, event);
    expect(chainHash(GENESIS_HASH, { ...event, actorName: 'x' })).not.toBe(base);
    expect(chainHash(GENESIS_HASH, { ...event, after: { ...(event.after as object), b: 2 } })).not.toBe(base);
    expect(chainHash('1'.repeat(64), event)).not.toBe(base);
  });
});
