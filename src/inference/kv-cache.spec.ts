import * as ort from 'onnxruntime-node';
import { gatherCache, KvCache, SpareCaches, placeRow } from 'src/inference/kv-cache';

/**
 * A [batch, 1 head, capacity, 1] cache of `length` used columns whose values are 10 * row + column + 1 (0 is
 * padding or unused).
 */
const cache = (batch: number, length: number, tokens: number[], capacity = length): KvCache => {
  const data = new Float32Array(batch * capacity);
  tokens.forEach((n, row) => {
    for (let c = length - n; c < length; c++) data[row * capacity + c] = 10 * row + c + 1;
  });
  return new KvCache([new ort.Tensor('float32', data, [batch, 1, capacity, 1])], length);
};
const rows = (c: KvCache) => {
  const [batch, , capacity] = c.tensors[0].dims;
  return Array.from({ length: batch }, (_, r) =>
    Array.from((c.tensors[0].data as Float32Array).subarray(r * capacity, (r + 1) * capacity)),
  );
};

describe('KvCache', () => {
  it('writes new keys and values into the next columns of every row and head, in place', () => {
    const c = KvCache.zeros(2, [2, 2, 4, 1]);
    const data = c.tensors[1].data;
    c.append(
      [0, 1].map(() => new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 2, 2, 1])),
    );
    c.append([0, 1].map(() => new ort.Tensor('float32', Float32Array.from([9, 10, 11, 12]), [2, 2, 1, 1])));
    expect(c.length).toBe(3);
    expect(c.tensors[1].data).toBe(data);
    expect(Array.from(c.tensors[1].data as Float32Array)).toEqual([
      1, 2, 9, 0, 3, 4, 10, 0, 5, 6, 11, 0, 7, 8, 12, 0,
    ]);
  });

  it('builds zero tensors on the memory of the smallest spare cache that fits, fresh memory otherwise', () => {
    const small = KvCache.zeros(2, [2, 1, 4, 1]);
    const large = KvCache.zeros(2, [2, 1, 8, 1]);
    (small.tensors[0].data as Float32Array).fill(7);
    const spares = new SpareCaches(2);
    spares.put(large);
    spares.put(small);
    const bufferOf = (c: KvCache) => (c.tensors[0].data as Float32Array).buffer;
    const reused = KvCache.zeros(2, [2, 1, 3, 1], spares);
    expect(bufferOf(reused)).toBe(bufferOf(small));
    expect(Array.from(reused.tensors[0].data as Float32Array)).toEqual([0, 0, 0, 0, 0, 0]);
    // The small one is lent out now; the large one is next, and then nothing is left.
    expect(bufferOf(KvCache.zeros(2, [2, 1, 4, 1], spares))).toBe(bufferOf(large));
    const fresh = KvCache.zeros(2, [2, 1, 4, 1], spares);
    expect([bufferOf(small), bufferOf(large)]).not.toContain(bufferOf(fresh));
    expect(fresh.tensors[0].dims).toEqual([2, 1, 4, 1]);
  });

  it('keeps only the largest spare caches and lends none too small', () => {
    const sizes = [4, 12, 8];
    const spares = new SpareCaches(2);
    for (const capacity of sizes) spares.put(KvCache.zeros(1, [1, 1, capacity, 1]));
    // 4 columns (5 with the quarter more) was dropped: a 3-column cache gets the 8 (10) as the smallest kept.
    expect(spares.take(3, 1)!.tensors[0].dims[2]).toBe(8);
    expect(spares.take(13, 1)!.tensors[0].dims[2]).toBe(12);
    expect(spares.take(1, 1)).toBeUndefined();
    spares.put(KvCache.zeros(1, [1, 1, 2, 1]));
    expect(spares.take(20, 1)).toBeUndefined();
  });

  it('refuses columns beyond its capacity', () => {
    const c = KvCache.zeros(1, [1, 1, 2, 1]);
    const one = () => [new ort.Tensor('float32', new Float32Array(1), [1, 1, 1, 1])];
    c.append(one());
    c.append(one());
    expect(() => c.append(one())).toThrow();
  });
});

describe('gatherCache', () => {
  it('keeps chosen rows of several caches, right-aligned to a common length with zero padding and capacity', () => {
    const running = cache(3, 4, [4, 2, 3], 6);
    const joined = cache(1, 2, [2]);
    const out = gatherCache(
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
      5,
    );
    expect(out.tensors[0].dims).toEqual([3, 1, 5, 1]);
    expect(out.length).toBe(4);
    expect(rows(out)).toEqual([
      [1, 2, 3, 4, 0],
      [0, 22, 23, 24, 0],
      [0, 0, 1, 2, 0],
    ]);
  });

  it('drops leading columns that are padding for every kept row', () => {
    const out = gatherCache([{ cache: cache(2, 5, [5, 2]), rows: [{ index: 1, tokens: 2 }] }], 2, 3);
    expect(rows(out)).toEqual([[14, 15, 0]]);
  });

  it('refuses a row longer than the new cache', () => {
    expect(() => gatherCache([{ cache: cache(1, 3, [3]), rows: [{ index: 0, tokens: 3 }] }], 2, 4)).toThrow();
  });

  it('rebuilds on lent memory without clearing it: padding is zeroed, columns past the used ones keep old values', () => {
    const spares = new SpareCaches(1);
    const old = cache(2, 4, [4, 4], 4);
    spares.put(old);
    const out = gatherCache(
      [
        {
          cache: cache(2, 3, [3, 1]),
          rows: [
            { index: 0, tokens: 3 },
            { index: 1, tokens: 1 },
          ],
        },
      ],
      3,
      4,
      spares,
    );
    expect((out.tensors[0].data as Float32Array).buffer).toBe((old.tensors[0].data as Float32Array).buffer);
    // Old values were 10 * row + column + 1: row 0 column 3 held 4, row 1 column 3 held 14.
    expect(rows(out)).toEqual([
      [1, 2, 3, 4],
      [0, 0, 13, 14],
    ]);
  });
});

describe('placeRow', () => {
  it('writes a row into a slot in place, right-aligned to the used columns, zeroing what the slot held before', () => {
    const running = cache(3, 5, [5, 4, 3], 7);
    const joined = cache(2, 3, [1, 3]);
    placeRow(running, 1, joined, 1, 3);
    expect(rows(running)).toEqual([
      [1, 2, 3, 4, 5, 0, 0],
      [0, 0, 11, 12, 13, 0, 0],
      [0, 0, 23, 24, 25, 0, 0],
    ]);
  });

  it('refuses a row longer than the cache', () => {
    expect(() => placeRow(cache(1, 2, [2], 4), 0, cache(1, 3, [3]), 0, 3)).toThrow();
  });
});
