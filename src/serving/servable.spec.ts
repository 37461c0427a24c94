import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { servable } from 'src/serving/serving.service';

const version = (id: string, status: AdapterStatus, applied: boolean) => ({ id, status, applied });
const stack = (channel: string | null, versions: ReturnType<typeof version>[]) => ({
  channel,
  headAdapterId: versions.at(-1)?.id ?? null,
  folders: versions.map((v) => `/store/${v.id}`),
  versions,
});

describe('servable', () => {
  it("serves a channel's stack only while every version in it is applied", () => {
    const applied = stack('prod', [
      version('a', AdapterStatus.APPLIED, true),
      version('b', AdapterStatus.APPLIED, true),
    ]);
    expect(servable(applied)).toBe(applied);
    const withCandidate = stack('prod', [
      version('a', AdapterStatus.APPLIED, true),
      version('b', AdapterStatus.CANDIDATE, false),
    ]);
    expect(() => servable(withCandidate)).toThrow(expect.objectContaining({ code: 'ADAPTER_NOT_SERVABLE' }));
  });

  it('serves a pinned version that was applied once, and never a candidate or a discarded one', () => {
    expect(() => servable(stack(null, [version('r', AdapterStatus.ROLLED_BACK, true)]))).not.toThrow();
    expect(() => servable(stack(null, [version('s', AdapterStatus.SUPERSEDED, true)]))).not.toThrow();
    for (const status of [AdapterStatus.CANDIDATE, AdapterStatus.DISCARDED]) {
      expect(() => servable(stack(null, [version('x', status, false)]))).toThrow(
        expect.objectContaining({ code: 'ADAPTER_NOT_SERVABLE', details: { adapterVersionId: 'x', status } }),
      );
    }
    // the base model alone is always served
    expect(() => servable(stack(null, []))).not.toThrow();
  });
});
