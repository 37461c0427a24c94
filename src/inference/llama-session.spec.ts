import { maskTensor } from 'src/inference/llama-session';

describe('maskTensor', () => {
  const rows = (t: ReturnType<typeof maskTensor>) => {
    const [batch, width] = t.dims;
    const data = Array.from(t.data as BigInt64Array, Number);
    return Array.from({ length: batch }, (_, b) => data.slice(b * width, (b + 1) * width));
  };

  it('places the used columns first, masks the unused capacity, and the new tokens last', () => {
    // 3 used of 5 columns, 2 new tokens: the row [pad, tok, tok | new, new].
    expect(rows(maskTensor([[0, 1, 1, 1, 1]], 2, 3, 5))).toEqual([[0, 1, 1, 0, 0, 1, 1]]);
  });

  it.each([
    ['a prefill (nothing cached, one masked column)', 0, 1, 4],
    ['a decode step', 6, 9, 1],
    ['a decode step on a full cache', 6, 6, 1],
  ])(
    'gives the same mask for realTokens as for the left-padded rows they stand for: %s',
    (_, used, capacity, tokens) => {
      const realTokens = [1, 3, used + tokens, Math.max(1, tokens - 1)];
      const explicit = realTokens.map((real) => [
        ...Array<number>(used + tokens - real).fill(0),
        ...Array<number>(real).fill(1),
      ]);
      const compact = maskTensor({ realTokens }, tokens, used, capacity);
      expect(compact.dims).toEqual([realTokens.length, capacity + tokens]);
      expect(rows(compact)).toEqual(rows(maskTensor(explicit, tokens, used, capacity)));
    },
  );
});
