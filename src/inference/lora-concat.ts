import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  adapterConfigSchema,
  PEFT_PREFIX,
  scalingOf,
  TENSOR_NAME,
} from 'src/inference/lora-adapter';
import { ROUTE_KEY_FIELD, ROUTE_SEGMENTS_FIELD, RouteSegment } from 'src/inference/route-key';
import { FloatTensor, RawTensor, readSafetensors, safetensorsBytes } from 'src/inference/safetensors';

/** A segment with its module paths in sorted order, so the same stack gives the same bytes. */
const sortedRanks = (seg: RouteSegment): RouteSegment => ({
  key: seg.key,
  ranks: Object.fromEntries(
    Object.keys(seg.ranks)
      .sort()
      .map((p) => [p, seg.ranks[p]]),
  ),
});

/** The two files of a PEFT adapter folder. */
export type PeftFiles = Record<typeof ADAPTER_CONFIG_FILE | typeof ADAPTER_WEIGHTS_FILE, Buffer>;

export class LoraConcatError extends Error {}

interface Part {
  a: FloatTensor;
  /** B with the adapter's PEFT scaling folded in, rounded to float32 as the serving loader does it. */
  b: Float32Array;
  rank: number;
  out: number;
}

/**
 * One PEFT adapter equal to a stack of adapters (oldest first): per module A = [A_1; A_2; ...] and
 * B = [s_1 B_1, s_2 B_2, ...], with `lora_alpha` (and `alpha_pattern` where ranks differ) chosen so that the
 * scaling of the result is exactly 1. Stacking is rank concatenation, so the result gives the very factors, hence
 * the very outputs, of the stack it replaces; a stack without one adapter is rebuilt exactly from the others.
 * Deterministic: the same adapters give the same bytes (and digest), so a verifier can recompute it offline.
 */
export function concatLoraAdapters(adapters: PeftFiles[]): PeftFiles {
  if (adapters.length === 0) throw new LoraConcatError('no adapters to concatenate');
  const parts = new Map<string, Part[]>();
  // Each input's route key (or, for an input that is itself a concatenation, its parts), kept per part.
  const segments: RouteSegment[] = [];
  adapters.forEach((files, index) => {
    const fail = (problem: string): never => {
      throw new LoraConcatError(`adapter ${index}: ${problem}`);
    };
    let raw: unknown;
    try {
      raw = JSON.parse(files[ADAPTER_CONFIG_FILE].toString('utf8'));
    } catch {
      fail(`${ADAPTER_CONFIG_FILE} is not valid JSON`);
    }
    const config = adapterConfigSchema.safeParse(raw);
    if (!config.success) fail(`${ADAPTER_CONFIG_FILE}: ${config.error.message}`);
    const own: RouteSegment[] = config.data![ROUTE_SEGMENTS_FIELD] ?? [
      { key: config.data![ROUTE_KEY_FIELD] ?? null, ranks: {} },
    ];
    const halves = new Map<string, { a?: FloatTensor; b?: FloatTensor }>();
    for (const [name, tensor] of readSafetensors(files[ADAPTER_WEIGHTS_FILE])) {
      const match = name.startsWith(PEFT_PREFIX) ? TENSOR_NAME.exec(name.slice(PEFT_PREFIX.length)) : null;
      if (!match) fail(`unexpected tensor ${name}`);
      const [, layer, block, module, which] = match!;
      const path = `model.layers.${layer}.${block}.${module}`;
      const entry = halves.get(path) ?? {};
      entry[which === 'A' ? 'a' : 'b'] = tensor;
      halves.set(path, entry);
    }
    for (const [path, { a, b }] of halves) {
      if (!a || !b || a.shape.length !== 2 || b.shape.length !== 2 || a.shape[0] !== b.shape[1]) {
        fail(`${path}: lora_A and lora_B must both be present, 2-D, of one rank`);
      }
      const rank = a!.shape[0];
      if (own.length === 1) own[0].ranks[path] = rank;
      const scale = scalingOf(config.data!, path, rank);
      const list = parts.get(path) ?? [];
      list.push({ a: a!, b: b!.data.map((v) => v * scale), rank, out: b!.shape[0] });
      parts.set(path, list);
    }
    segments.push(...own);
  });

  const tensors: Record<string, RawTensor> = {};
  const ranks: Record<string, number> = {};
  for (const path of [...parts.keys()].sort()) {
    const list = parts.get(path)!;
    const [inFeatures, out] = [list[0].a.shape[1], list[0].out];
    if (list.some((p) => p.a.shape[1] !== inFeatures || p.out !== out)) {
      throw new LoraConcatError(`${path}: the adapters do not agree on the module's shape`);
    }
    const total = list.reduce((sum, p) => sum + p.rank, 0);
    const a = new Float32Array(total * inFeatures);
    const b = new Float32Array(out * total);
    let row = 0;
    for (const p of list) {
      a.set(p.a.data, row * inFeatures);
      for (let o = 0; o < out; o++) b.set(p.b.subarray(o * p.rank, (o + 1) * p.rank), o * total + row);
      row += p.rank;
    }
    tensors[`${PEFT_PREFIX}${path}.lora_A.weight`] = { dtype: 'F32', shape: [total, inFeatures], values: a };
    tensors[`${PEFT_PREFIX}${path}.lora_B.weight`] = { dtype: 'F32', shape: [out, total], values: b };
    ranks[path] = total;
  }
  const r = Math.max(...Object.values(ranks));
  // PEFT's scaling is alpha / r: alpha = r everywhere makes it 1; modules of another rank say so per module.
  const otherRanks = Object.fromEntries(Object.entries(ranks).filter(([, rank]) => rank !== r));
  const config = {
    alpha_pattern: otherRanks,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    lora_alpha: r,
    lora_dropout: 0,
    peft_type: 'LORA',
    r,
    rank_pattern: otherRanks,
    target_modules: [...new Set(Object.keys(ranks).map((p) => p.slice(p.lastIndexOf('.') + 1)))].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
    // Only when some part is routed: a concatenation of unrouted adapters serves every prompt, as they did.
    ...(segments.some((seg) => seg.key !== null)
      ? { [ROUTE_SEGMENTS_FIELD]: segments.map(sortedRanks) }
      : {}),
  };
  return {
    [ADAPTER_CONFIG_FILE]: Buffer.from(`${JSON.stringify(config, null, 2)}\n`),
    [ADAPTER_WEIGHTS_FILE]: safetensorsBytes(tensors),
  };
}
