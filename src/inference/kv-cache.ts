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

/**
 * Writes row `index` of `source` (its last `tokens` columns) into row `slot` of `target` in place,
 * right-aligned, and zeroes the columns before it: whatever the slot held before is gone.
 */
export function placeRow(
  target: KvCache,
  slot: number,
  source: KvCache,
  index: number,
  tokens: number,
): void {
  for (let t = 0; t < target.length; t++) {
    const [, heads, length, headDim] = target[t].dims;
    const sourceLength = source[t].dims[2];
    if (tokens > length || tokens > sourceLength) {
      throw new Error(`row of ${tokens} tokens does not fit a cache of ${Math.min(length, sourceLength)}`);
    }
    const into = target[t].data as Float32Array;
    const values = source[t].data as Float32Array;
    for (let h = 0; h < heads; h++) {
      const row = (slot * heads + h) * length * headDim;
      const to = row + (length - tokens) * headDim;
      into.fill(0, row, to);
      const from = ((index * heads + h) * sourceLength + sourceLength - tokens) * headDim;
      into.set(values.subarray(from, from + tokens * headDim), to);
    }
  }
}

/**
 * Memory for the batch KV cache across decode steps: two sets of buffers used in turn, so that each step's
 * forward pass writes its present cache into the set that does not hold its past one. Without it every step
 * allocates the whole cache anew (tens of megabytes at 32 rows) and copies it out of onnxruntime, and the
 * garbage collector then reclaims as much. A set grows (by a quarter over what is asked) when a step needs
 * more than it holds.
 */
export class KvArena {
  private readonly sets: ArrayBuffer[][] = [[], []];

  /** `count` tensors of `dims` on the set that does not back `past`. */
  present(count: number, dims: [number, number, number, number], past: KvCache | null): KvCache {
    const size = dims[0] * dims[1] * dims[2] * dims[3];
    const busy = past?.[0] ? (past[0].data as Float32Array).buffer : null;
    const set = this.sets[this.sets[0][0] !== undefined && this.sets[0][0] === busy ? 1 : 0];
    const out: KvCache = [];
    for (let t = 0; t < count; t++) {
      if (!set[t] || set[t].byteLength < size * 4) set[t] = new ArrayBuffer(Math.ceil(size * 1.25) * 4);
      out.push(new ort.Tensor('float32', new Float32Array(set[t], 0, size), dims));
    }
    return out;
  }
}
