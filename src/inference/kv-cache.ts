import * as ort from 'onnxruntime-node';
import { KvCache } from 'src/inference/llama-session';

/** Rows taken from one batch's KV cache: which rows, and how many real (right-aligned) tokens each holds. */
export interface CacheRows {
  cache: KvCache;
  rows: { index: number; tokens: number }[];
}

/**
 * A new batch KV cache made of rows of one or more caches, right-aligned to `length` columns.
 *
 * Every row of a batch cache holds its real tokens in its last columns (prompts are left-padded and each decode
 * step appends one column for everybody), so a row can move between caches of different lengths: its last
 * `tokens` columns are copied to the end of the new row and the columns before them are zero padding, which
 * the attention mask hides. `length` below the longest source drops leading columns that are padding for
 * every kept row, so the cache never grows past its longest row.
 */
export function gatherCache(parts: CacheRows[], length: number): KvCache {
  const first = parts.find((p) => p.rows.length > 0);
  if (!first) throw new Error('gatherCache needs at least one row');
  const batch = parts.reduce((n, p) => n + p.rows.length, 0);
  const tensors = first.cache.length;
  const out: KvCache = [];
  for (let t = 0; t < tensors; t++) {
    const [, heads, , headDim] = first.cache[t].dims;
    const data = new Float32Array(batch * heads * length * headDim);
    let target = 0;
    for (const part of parts) {
      const source = part.cache[t];
      const sourceLength = source.dims[2];
      const values = source.data as Float32Array;
      for (const { index, tokens } of part.rows) {
        if (tokens > length || tokens > sourceLength) {
          throw new Error(
            `row of ${tokens} tokens does not fit a cache of ${Math.min(length, sourceLength)}`,
          );
        }
        for (let h = 0; h < heads; h++) {
          const from = ((index * heads + h) * sourceLength + sourceLength - tokens) * headDim;
          const to = ((target * heads + h) * length + length - tokens) * headDim;
          data.set(values.subarray(from, from + tokens * headDim), to);
        }
        target++;
      }
    }
    out.push(new ort.Tensor('float32', data, [batch, heads, length, headDim]));
  }
  return out;
}
