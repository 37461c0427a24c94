import * as ort from 'onnxruntime-node';
import { gatherCache } from 'src/inference/kv-cache';

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
