import * as ort from 'onnxruntime-node';

/**
 * The KV cache of a batch: one key and one value tensor per layer, [batch, kv_heads, capacity, head_dim], of
 * which the first `length` columns are in use. The graph only reads it (see gpu/sealgate_gpu/onnx_export.py):
 * each forward pass returns the new tokens' keys and values, and `append` writes them into the next columns in
 * place, so a decode step copies one column, not the cache.
 *
 * Every row holds its real tokens right-aligned in the used columns (prompts are left-padded and each decode
 * step appends one column for everybody); the columns before them are padding and the columns from `length` on
 * are zeros or keys and values left by an earlier cache on the same memory, both masked. Masked columns must
 * stay finite: they are multiplied by an attention weight of exactly 0.
 */
export class KvCache {
  constructor(
    readonly tensors: ort.Tensor[],
    public length: number,
  ) {}

  /**
   * `count` zero tensors of [batch, heads, capacity, headDim], none of it used yet, on the memory of a spare
   * cache where one is large enough. Fresh memory costs far more than the copy a rebuild makes (the first write
   * to each page, then the garbage collector's work on the old cache): about 35 ms against 4 ms at 32 rows.
   */
  static zeros(count: number, dims: readonly number[], spares?: SpareCaches): KvCache {
    return KvCache.allocate(count, dims, spares, true);
  }

  /**
   * As `zeros`, except that lent memory keeps the keys and values of the cache it came from. They are finite, so
   * columns the caller leaves unwritten past `length` are safe to mask; a rebuild, which writes every used
   * column, saves clearing the whole cache first.
   */
  static allocate(
    count: number,
    [batch, heads, capacity, headDim]: readonly number[],
    spares?: SpareCaches,
    clear = false,
  ): KvCache {
    const dims = [batch, heads, capacity, headDim];
    const size = batch * heads * capacity * headDim;
    const reuse = spares?.take(size, count);
    const tensors = Array.from({ length: count }, (_, t) => {
      let data: Float32Array;
      if (reuse) {
        data = new Float32Array(floatsOf(reuse, t).buffer, 0, size);
        if (clear) data.fill(0);
      } else {
        // A quarter more than asked, so that the next, slightly larger cache fits it too.
        data = new Float32Array(new ArrayBuffer(Math.ceil(size * 1.25) * 4), 0, size);
      }
      return new ort.Tensor('float32', data, dims);
    });
    return new KvCache(tensors, 0);
  }

  get batch(): number {
    return this.tensors[0].dims[0];
  }

  get capacity(): number {
    return this.tensors[0].dims[2];
  }

  /** Writes a pass's new keys and values ([batch, heads, tokens, headDim] each) into the next columns. */
  append(fresh: ort.Tensor[]): void {
    const tokens = fresh[0].dims[2];
    if (this.length + tokens > this.capacity) {
      throw new Error(`${tokens} new columns do not fit a cache of ${this.length} / ${this.capacity}`);
    }
    for (const [t, tensor] of this.tensors.entries()) {
      const [batch, heads, capacity, headDim] = tensor.dims;
      const into = tensor.data as Float32Array;
      const values = fresh[t].data as Float32Array;
      const run = tokens * headDim;
      // A plain loop: at one token a run is head_dim floats, and a subarray view for each of the
      // batch x heads runs cost more than the copy (about 2,000 views per decode step at 32 rows).
      for (let r = 0; r < batch * heads; r++) {
        const from = r * run;
        const to = (r * capacity + this.length) * headDim;
        for (let i = 0; i < run; i++) into[to + i] = values[from + i];
      }
    }
    this.length += tokens;
  }
}

function floatsOf(cache: KvCache, tensor: number): Float32Array {
  return cache.tensors[tensor].data as Float32Array;
}

/**
 * Memory of caches no longer in use, lent to the next ones that fit (see `KvCache.zeros`): the smallest that
 * fits is lent, and only the `max` largest are kept. A cache given here must not be read or written again.
 */
export class SpareCaches {
  private caches: KvCache[] = [];

  constructor(private readonly max: number) {}

  /** Takes the smallest spare of `count` tensors whose memory holds `size` floats each, if there is one. */
  take(size: number, count: number): KvCache | undefined {
    const fits = (c: KvCache) =>
      c.tensors.length >= count && c.tensors.every((_, t) => floatsOf(c, t).buffer.byteLength >= size * 4);
    let best = -1;
    this.caches.forEach((c, i) => {
      if (fits(c) && (best < 0 || bytesOf(c) < bytesOf(this.caches[best]))) best = i;
    });
    return best < 0 ? undefined : this.caches.splice(best, 1)[0];
  }

  put(cache: KvCache): void {
    this.caches.push(cache);
    this.caches.sort((a, b) => bytesOf(b) - bytesOf(a));
    this.caches.length = Math.min(this.caches.length, this.max);
  }

  clear(): void {
    this.caches = [];
  }
}

function bytesOf(cache: KvCache): number {
  return cache.tensors.reduce((n, _, t) => n + floatsOf(cache, t).buffer.byteLength, 0);
}

/** Rows taken from one batch's KV cache: which rows, and how many real (right-aligned) tokens each holds. */
export interface CacheRows {
  cache: KvCache;
  rows: { index: number; tokens: number }[];
}

/**
 * A new batch KV cache of `capacity` columns made of rows of one or more caches, right-aligned to `length` used
 * columns: a row's last `tokens` columns are copied to the end of its new row's used columns and the columns
 * before them are zero padding, which the attention mask hides. `length` below the longest source drops
 * leading columns that are padding for every kept row, so the cache never grows past its longest row.
 * `spares` lends memory (see `KvCache.zeros`): none of the parts may be among them.
 */
export function gatherCache(
  parts: CacheRows[],
  length: number,
  capacity: number,
  spares?: SpareCaches,
): KvCache {
  const first = parts.find((p) => p.rows.length > 0);
  if (!first) throw new Error('gatherCache needs at least one row');
  if (length > capacity) throw new Error(`${length} columns do not fit a capacity of ${capacity}`);
  const batch = parts.reduce((n, p) => n + p.rows.length, 0);
  const [, heads, , headDim] = first.cache.tensors[0].dims;
  // Every used column of every row is written below (padding as zeros), so lent memory is not cleared first.
  const out = KvCache.allocate(first.cache.tensors.length, [batch, heads, capacity, headDim], spares);
  out.length = length;
  let target = 0;
  for (const part of parts) {
    for (const { index, tokens } of part.rows) placeRow(out, target++, part.cache, index, tokens);
  }
  return out;
}

/**
 * Writes row `index` of `source` (its last `tokens` used columns) into row `slot` of `target` in place,
 * right-aligned to the target's used columns, and zeroes the columns before it: whatever the slot held before
 * is gone.
 */
export function placeRow(
  target: KvCache,
  slot: number,
  source: KvCache,
  index: number,
  tokens: number,
): void {
  if (tokens > target.length || tokens > source.length) {
    throw new Error(
      `row of ${tokens} tokens does not fit a cache of ${Math.min(target.length, source.length)}`,
    );
  }
  for (const [t, tensor] of target.tensors.entries()) {
    const [, heads, capacity, headDim] = tensor.dims;
    const sourceCapacity = source.tensors[t].dims[2];
    const into = tensor.data as Float32Array;
    const values = source.tensors[t].data as Float32Array;
    for (let h = 0; h < heads; h++) {
      const row = (slot * heads + h) * capacity * headDim;
      const to = row + (target.length - tokens) * headDim;
      into.fill(0, row, to);
      const from = ((index * heads + h) * sourceCapacity + source.length - tokens) * headDim;
      into.set(values.subarray(from, from + tokens * headDim), to);
    }
  }
}
