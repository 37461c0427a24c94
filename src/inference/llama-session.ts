import * as ort from 'onnxruntime-node';
import { KvCache } from 'src/inference/kv-cache';
import { factorKey, LoraAdapter } from 'src/inference/lora-adapter';
import { LORA_MODULES, ModelSpec } from 'src/inference/model-spec';

export interface ForwardInput {
  /** [batch][tokens], rectangular. */
  inputIds: number[][];
  /**
   * Over the past's used columns and the new tokens (the unused capacity is masked here): per row, either 1 for
   * a token and 0 for padding, or (`realTokens`) how many of the last positions are tokens, the ones before
   * them padding: a left-padded row, as the batcher's are, without building the row.
   */
  attentionMask: number[][] | { realTokens: number[] };
  /** [batch][tokens]. */
  positionIds: number[][];
  /** The batch's cache, read only; null for a pass with nothing cached. */
  past: KvCache | null;
  lora: LoraFeeds;
}

export interface ForwardOutput {
  /** [batch, tokens, vocab] row-major. */
  logits: Float32Array;
  /** The new tokens' keys and values, [batch, kv_heads, tokens, head_dim] per layer: for `KvCache.append`. */
  fresh: ort.Tensor[];
}

/** The LoRA inputs of one batch, built once and reused for every decode step of that batch. */
export type LoraFeeds = Record<string, ort.Tensor>;

/** One onnxruntime session of the exported model (see gpu/sealgate_gpu/onnx_export.py for its inputs). */
export class LlamaSession {
  private constructor(
    readonly spec: ModelSpec,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(spec: ModelSpec, threads: number): Promise<LlamaSession> {
    const session = await ort.InferenceSession.create(spec.onnxPath, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
    return new LlamaSession(spec, session);
  }

  /**
   * LoRA inputs for a batch in which row i runs on the adapter stack `stacks[i]` (base first). Each module's
   * stack is the rank concatenation of its adapters; shorter rows are zero-padded up to the batch's largest
   * rank, which adds exactly nothing, and a module no row adapts gets one rank of zeros.
   *
   * When no row has an adapter, the factors are a single row of zeros that the graph's MatMul broadcasts over
   * the batch: the same exact zeros, without a batched product per row and module (about a tenth of a decode
   * step at 32 rows).
   */
  loraFeeds(stacks: LoraAdapter[][]): LoraFeeds {
    const feeds: LoraFeeds = {};
    if (stacks.every((stack) => stack.length === 0)) stacks = stacks.slice(0, 1);
    const batch = stacks.length;
    for (let layer = 0; layer < this.spec.layers; layer++) {
      for (const module of LORA_MODULES) {
        const key = factorKey(layer, module);
        const [inF, outF] = this.spec.moduleShape(module);
        const ranks = stacks.map((stack) => stack.reduce((n, ad) => n + (ad.modules.get(key)?.rank ?? 0), 0));
        // Never rank 0: onnxruntime's MatMul over an empty inner dimension leaves rows after the first
        // uninitialised instead of zero (seen with onnxruntime-node 1.30); a zero rank-1 factor adds exactly 0.
        const rank = Math.max(1, ...ranks);
        const a = new Float32Array(batch * rank * inF);
        const b = new Float32Array(batch * outF * rank);
        stacks.forEach((stack, row) => {
          let offset = 0;
          for (const adapter of stack) {
            const f = adapter.modules.get(key);
            if (!f) continue;
            a.set(f.a, (row * rank + offset) * inF);
            for (let o = 0; o < outF; o++) {
              b.set(f.b.subarray(o * f.rank, (o + 1) * f.rank), row * outF * rank + o * rank + offset);
            }
            offset += f.rank;
          }
        });
        feeds[`lora.${layer}.${module}.A`] = new ort.Tensor('float32', a, [batch, rank, inF]);
        feeds[`lora.${layer}.${module}.B`] = new ort.Tensor('float32', b, [batch, outF, rank]);
      }
    }
    return feeds;
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const { spec } = this;
    const batch = input.inputIds.length;
    const tokens = input.inputIds[0].length;
    // Never a past of 0 columns (onnxruntime's MatMul over an empty dimension leaves garbage, see loraFeeds):
    // without a cache, one masked column of zeros, shared by every layer.
    const zeros = input.past
      ? null
      : new ort.Tensor('float32', new Float32Array(batch * spec.kvHeads * spec.headDim), [
          batch,
          spec.kvHeads,
          1,
          spec.headDim,
        ]);
    const used = input.past?.length ?? 0;
    const capacity = input.past?.capacity ?? 1;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(input.inputIds),
      attention_mask: maskTensor(input.attentionMask, tokens, used, capacity),
      position_ids: int64Tensor(input.positionIds),
      ...input.lora,
    };
    for (let layer = 0; layer < spec.layers; layer++) {
      feeds[`past_key_values.${layer}.key`] = input.past?.tensors[2 * layer] ?? zeros!;
      feeds[`past_key_values.${layer}.value`] = input.past?.tensors[2 * layer + 1] ?? zeros!;
    }
    const out = await this.session.run(feeds);
    const fresh: ort.Tensor[] = [];
    for (let layer = 0; layer < spec.layers; layer++) {
      fresh.push(out[`new_key_values.${layer}.key`], out[`new_key_values.${layer}.value`]);
    }
    const logits = out.logits;
    if (logits.dims[1] !== tokens) throw new Error(`logits for ${logits.dims[1]} tokens, expected ${tokens}`);
    return { logits: logits.data as Float32Array, fresh };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function int64Tensor(rows: number[][]): ort.Tensor {
  const width = rows[0]?.length ?? 0;
  const data = new BigInt64Array(rows.length * width);
  rows.forEach((row, i) => row.forEach((v, j) => (data[i * width + j] = BigInt(v))));
  return new ort.Tensor('int64', data, [rows.length, width]);
}

/**
 * The attention mask for a past of `capacity` columns of which `used` are filled, and `tokens` new tokens: each
 * row's mask over its used columns and new tokens, with zeros for the unused columns in between.
 */
export function maskTensor(
  mask: ForwardInput['attentionMask'],
  tokens: number,
  used: number,
  capacity: number,
): ort.Tensor {
  const width = capacity + tokens;
  const column = (j: number) => (j < used ? j : j - used + capacity);
  if ('realTokens' in mask) {
    const data = new BigInt64Array(mask.realTokens.length * width);
    mask.realTokens.forEach((real, i) => {
      const first = Math.max(0, used + tokens - real);
      if (first < used) data.fill(1n, i * width + first, i * width + used);
      data.fill(1n, i * width + column(Math.max(first, used)), (i + 1) * width);
    });
    return new ort.Tensor('int64', data, [mask.realTokens.length, width]);
  }
  const data = new BigInt64Array(mask.length * width);
  mask.forEach((row, i) =>
    row.forEach((v, j) => {
      if (v !== 0) data[i * width + column(j)] = 1n;
    }),
  );
  return new ort.Tensor('int64', data, [mask.length, width]);
}
