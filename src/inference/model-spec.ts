import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';

/** The seven linear modules of a Llama decoder layer that LoRA can adapt, in the ONNX graph's input order. */
export const LORA_MODULES = [
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
] as const;
export type LoraModule = (typeof LORA_MODULES)[number];
const MLP_MODULES: ReadonlySet<LoraModule> = new Set(['gate_proj', 'up_proj', 'down_proj']);

const tokenIds = z.union([z.number().int(), z.array(z.number().int()), z.null()]).optional();

/** The config.json fields the gateway needs (Hugging Face Llama names). */
const llamaConfigSchema = z.object({
  model_type: z.literal('llama'),
  vocab_size: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  intermediate_size: z.number().int().positive(),
  num_hidden_layers: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().optional(),
  max_position_embeddings: z.number().int().positive(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
  pad_token_id: tokenIds,
});

/** A model folder: config.json, model.safetensors, tokenizer.json and model.onnx. */
export class ModelSpec {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly maxPositions: number;
  readonly bosId: number;
  readonly eosIds: number[];
  readonly padId: number;

  private constructor(
    readonly folder: string,
    config: z.infer<typeof llamaConfigSchema>,
  ) {
    this.vocabSize = config.vocab_size;
    this.hiddenSize = config.hidden_size;
    this.intermediateSize = config.intermediate_size;
    this.layers = config.num_hidden_layers;
    this.heads = config.num_attention_heads;
    this.kvHeads = config.num_key_value_heads ?? config.num_attention_heads;
    this.headDim = config.head_dim ?? config.hidden_size / config.num_attention_heads;
    this.maxPositions = config.max_position_embeddings;
    this.bosId = firstId(config.bos_token_id) ?? 1;
    const eos = config.eos_token_id;
    this.eosIds = Array.isArray(eos) ? eos : eos == null ? [2] : [eos];
    this.padId = firstId(config.pad_token_id) ?? this.eosIds[0];
  }

  static load(folder: string): ModelSpec {
    for (const file of [CONFIG_FILE, ONNX_FILE, TOKENIZER_FILE]) {
      if (!existsSync(join(folder, file))) {
        throw new InferenceError(InferenceErrorCode.MODEL_INVALID, `${join(folder, file)} is missing`, {
          file,
        });
      }
    }
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(join(folder, CONFIG_FILE), 'utf8'));
    } catch (e) {
      throw new InferenceError(
        InferenceErrorCode.MODEL_INVALID,
        `${CONFIG_FILE} is not valid JSON: ${String(e)}`,
      );
    }
    const parsed = llamaConfigSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new InferenceError(InferenceErrorCode.MODEL_INVALID, `${CONFIG_FILE}: ${problems}`);
    }
    return new ModelSpec(folder, parsed.data);
  }

  /** [in, out] features of a linear module, as LoRA's A [r, in] and B [out, r] must match. */
  moduleShape(module: LoraModule): [number, number] {
    const d = this.hiddenSize;
    const q = this.heads * this.headDim;
    const kv = this.kvHeads * this.headDim;
    const f = this.intermediateSize;
    const shapes: Record<LoraModule, [number, number]> = {
      q_proj: [d, q],
      k_proj: [d, kv],
      v_proj: [d, kv],
      o_proj: [q, d],
      gate_proj: [d, f],
      up_proj: [d, f],
      down_proj: [f, d],
    };
    return shapes[module];
  }

  /** PEFT's module path for layer `layer`, e.g. model.layers.0.self_attn.q_proj. */
  static modulePath(layer: number, module: LoraModule): string {
    const block = MLP_MODULES.has(module) ? 'mlp' : 'self_attn';
    return `model.layers.${layer}.${block}.${module}`;
  }

  get onnxPath(): string {
    return join(this.folder, ONNX_FILE);
  }

  get tokenizerPath(): string {
    return join(this.folder, TOKENIZER_FILE);
  }
}

export const CONFIG_FILE = 'config.json';
export const ONNX_FILE = 'model.onnx';
export const TOKENIZER_FILE = 'tokenizer.json';
export const WEIGHTS_FILE = 'model.safetensors';

function firstId(ids: number | number[] | null | undefined): number | undefined {
  if (Array.isArray(ids)) return ids[0];
  return ids ?? undefined;
}
