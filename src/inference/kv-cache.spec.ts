import * as ort from 'onnxruntime-node';
import { gatherCache, KvArena, placeRow } from 'src/inference/kv-cache';

/** A [batch, 1 head, length, 1] cache whose values are 10 * row + column + 1 (0 is padding). */
const cache = (batch: number, length: number, tokens: number[]): ort.Tensor[] => {
  const data = new Float32Array(batch * length);
  tokens.forEach((n, row) => {
    for (let c = length - n; c < length; c++) data[row * length + c] = 10 * row + c + 1;
  });
  return [new ort.Tensor('float32', data, [batch, 1, length, 1])];
};
const rows = (t: ort.Tensor, length: number) =>
  Array.from({ length: t.dims[0] }, (_, r) =>
    Array.from((t.data as Float32Array).subarray(r * length, (r + 1) * length)),
  );

describe('gatherCache', () => {
  it('keeps chosen rows of several caches, right-aligned to a common length with zero padding', () => {
    const running = cache(3, 4, [4, 2, 3]);
    const joined = cache(1, 2, [2]);
    const [out] = gatherCache(
      [
        {
          cache: running,
          rows: [
            { index: 0, tokens: 4 },
            { index: 2, tokens: 3 },
          ],
        },
        { cache: joined, rows: [{ index: 0, tokens: 2 }] },
      ],
      4,
    );
    expect(out.dims).toEqual([3, 1, 4, 1]);
    expect(rows(out, 4)).toEqual([
      [1, 2, 3, 4],
      [0, 22, 23, 24],
      [0, 0, 1, 2],
    ]);
  });

  it('drops leading columns that are padding for every kept row', () => {
    const [out] = gatherCache([{ cache: cache(2, 5, [5, 2]), rows: [{ index: 1, tokens: 2 }] }], 2);
    expect(rows(out, 2)).toEqual([[14, 15]]);
  });

  it('refuses a row longer than the new cache', () => {
    expect(() => gatherCache([{ cache: cache(1, 3, [3]), rows: [{ index: 0, tokens: 3 }] }], 2)).toThrow();
  });
});

describe('placeRow', () => {
  it('writes a row into a slot in place, right-aligned, zeroing what the slot held before', () => {
    const running = cache(3, 5, [5, 4, 3]);
    const joined = cache(2, 3, [1, 3]);
    placeRow(running, 1, joined, 1, 3);
    expect(rows(running[0], 5)).toEqual([
      [1, 2, 3, 4, 5],
      [0, 0, 11, 12, 13],
      [0, 0, 23, 24, 25],
    ]);
  });

  it('refuses a row longer than the cache', () => {
    expect(() => placeRow(cache(1, 2, [2]), 0, cache(1, 3, [3]), 0, 3)).toThrow();
  });
});

describe('KvArena', () => {
  const bufferOf = (cache: ort.Tensor[]) => (cache[0].data as Float32Array).buffer;

  it('gives each step tensors of the asked shape on memory its past does not use, reusing it in turn', () => {
    const arena = new KvArena();
    const first = arena.present(2, [2, 1, 3, 4], null);
    expect(first.map((t) => t.dims)).toEqual([
      [2, 1, 3, 4],
      [2, 1, 3, 4],
    ]);
    expect((first[0].data as Float32Array).length).toBe(24);
    const second = arena.present(2, [2, 1, 4, 4], first);
    expect(bufferOf(second) === bufferOf(first)).toBe(false);
    const third = arena.present(2, [2, 1, 5, 3], second);
    expect(bufferOf(third) === bufferOf(second)).toBe(false);
    expect(bufferOf(third) === bufferOf(first)).toBe(true); // 30 floats fit the 24 * 1.25 first asked for
  });

  it('grows a set that is too small', () => {
    const arena = new KvArena();
    const small = arena.present(1, [1, 1, 2, 1], null);
    arena.present(1, [1, 1, 2, 1], small);
    const big = arena.present(1, [4, 1, 8, 1], arena.present(1, [1, 1, 2, 1], small));
    expect((big[0].data as Float32Array).length).toBe(32);
  });
});
