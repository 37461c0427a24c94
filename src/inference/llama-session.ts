import * as ort from 'onnxruntime-node';
import { factorKey, LoraAdapter } from 'src/inference/lora-adapter';
import { LORA_MODULES, ModelSpec } from 'src/inference/model-spec';

/** The KV cache of a batch: one key and one value tensor per layer, [batch, kv_heads, length, head_dim]. */
export type KvCache = ort.Tensor[];

export interface ForwardInput {
  /** [batch][tokens], rectangular. */
  inputIds: number[][];
  /** [batch][cached + tokens]: 1 for a token, 0 for padding. */
  attentionMask: number[][];
  /** [batch][tokens]. */
  positionIds: number[][];
  past: KvCache | null;
  lora: LoraFeeds;
  /**
   * Tensors of the present cache's shape ([batch, kv_heads, cached + tokens, head_dim]) for the pass to write
   * the new cache into, instead of buffers it allocates and copies out (see KvArena); must not share memory
   * with `past`.
   */
  present?: KvCache;
}

export interface ForwardOutput {
  /** [batch, tokens, vocab] row-major. */
  logits: Float32Array;
  present: KvCache;
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
    const batch = input.inputIds.length;
    const tokens = input.inputIds[0].length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64Tensor(input.inputIds),
      attention_mask: int64Tensor(input.attentionMask),
      position_ids: int64Tensor(input.positionIds),
      ...input.lora,
    };
    const empty = new Float32Array(0);
    for (let layer = 0; layer < this.spec.layers; layer++) {
      for (const [j, kv] of ['key', 'value'].entries()) {
        feeds[`past_key_values.${layer}.${kv}`] =
          input.past?.[2 * layer + j] ??
          new ort.Tensor('float32', empty, [batch, this.spec.kvHeads, 0, this.spec.headDim]);
      }
    }
    const fetches: Record<string, ort.Tensor | null> = { logits: null };
    for (let layer = 0; layer < this.spec.layers; layer++) {
      fetches[`present.${layer}.key`] = input.present?.[2 * layer] ?? null;
      fetches[`present.${layer}.value`] = input.present?.[2 * layer + 1] ?? null;
    }
    const out = await this.session.run(feeds, fetches);
    const present: KvCache = [];
    for (let layer = 0; layer < this.spec.layers; layer++) {
      present.push(
        input.present?.[2 * layer] ?? out[`present.${layer}.key`],
        input.present?.[2 * layer + 1] ?? out[`present.${layer}.value`],
      );
    }
    const logits = out.logits;
    if (logits.dims[1] !== tokens) throw new Error(`logits for ${logits.dims[1]} tokens, expected ${tokens}`);
    return { logits: logits.data as Float32Array, present };
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
