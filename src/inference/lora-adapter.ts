import { readFileSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { sha256Hex } from 'src/common/sha256';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { LORA_MODULES, LoraModule, ModelSpec } from 'src/inference/model-spec';
import {
  ROUTE_KEY_FIELD,
  ROUTE_SEGMENTS_FIELD,
  RouteSegment,
  routeKeySchema,
  routes,
  routeSegmentsSchema,
} from 'src/inference/route-key';
import { readSafetensors, SafetensorsFormatError } from 'src/inference/safetensors';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
export const PEFT_PREFIX = 'base_model.model.';
/** A PEFT tensor name after the prefix: layer, block, module, and which factor. */
export const TENSOR_NAME =
  /^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z_]+)\.lora_([AB])(?:\.default)?\.weight$/;

/** The adapter_config.json fields that decide what the weights mean (PEFT's names). */
export const adapterConfigSchema = z.object({
  peft_type: z.literal('LORA').optional(),
  r: z.number().int().positive(),
  lora_alpha: z.number().positive(),
  target_modules: z.array(z.enum(LORA_MODULES)).min(1),
  use_rslora: z.boolean().optional().default(false),
  use_dora: z.literal(false).optional(),
  fan_in_fan_out: z.literal(false).optional(),
  bias: z.literal('none').optional(),
  alpha_pattern: z.record(z.number().positive()).optional().default({}),
  [ROUTE_KEY_FIELD]: routeKeySchema.optional(),
  [ROUTE_SEGMENTS_FIELD]: routeSegmentsSchema.optional(),
});

/** One module's factors: A [rank, in] and B [out, rank] with PEFT's scaling already folded into B. */
export interface LoraFactors {
  rank: number;
  a: Float32Array;
  b: Float32Array;
}

/** A validated PEFT adapter, ready to feed the ONNX graph; keyed by `${layer}.${module}`. */
export interface LoraAdapter {
  digest: string;
  bytes: number;
  modules: Map<string, LoraFactors>;
  /** What the adapter's edit is about (src/inference/route-key.ts); null: it serves every row. */
  routeKey: string[] | null;
  /** A concatenation of routed adapters: its parts, each routed by its own key (their modules, same digest). */
  segments?: LoraAdapter[];
}

export const factorKey = (layer: number, module: LoraModule): string => `${layer}.${module}`;

/**
 * Loads a PEFT folder and checks it against the model: tensor names, shapes, float dtypes, finite values and
 * a size limit. Any problem is an ADAPTER_INVALID error naming the file and tensor.
 */
export async function loadLoraAdapter(
  folder: string,
  spec: ModelSpec,
  maxBytes: number,
): Promise<LoraAdapter> {
  // Users read these messages: the adapter is named by its store address (or its folder's name), never by a
  // path on the server.
  const name = basename(folder).slice(0, 16);
  const fail = (message: string, details?: Record<string, unknown>): never => {
    throw new InferenceError(InferenceErrorCode.ADAPTER_INVALID, `adapter ${name}: ${message}`, {
      adapter: name,
      ...details,
    });
  };
  const configPath = join(folder, ADAPTER_CONFIG_FILE);
  const weightsPath = join(folder, ADAPTER_WEIGHTS_FILE);
  const sizes = await Promise.all(
    [configPath, weightsPath].map((p) =>
      stat(p).then(
        (s) => s.size,
        () => fail(`${basename(p)} is missing`),
      ),
    ),
  );
  if (sizes[1] > maxBytes)
    fail(`${ADAPTER_WEIGHTS_FILE} is ${sizes[1]} bytes, over the ${maxBytes}-byte limit`);
  const [configBytes, weightBytes] = await Promise.all([readFile(configPath), readFile(weightsPath)]);

  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(configBytes.toString('utf8'));
  } catch {
    fail(`${ADAPTER_CONFIG_FILE} is not valid JSON`);
  }
  const parsed = adapterConfigSchema.safeParse(rawConfig);
  if (!parsed.success) {
    fail(
      `${ADAPTER_CONFIG_FILE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const config = parsed.data!;

  let tensors: ReturnType<typeof readSafetensors> = new Map();
  try {
    tensors = readSafetensors(weightBytes);
  } catch (e) {
    if (e instanceof SafetensorsFormatError) fail(`${ADAPTER_WEIGHTS_FILE}: ${e.message}`);
    throw e;
  }

  const halves = new Map<
    string,
    { a?: Float32Array; b?: Float32Array; aShape?: number[]; bShape?: number[] }
  >();
  for (const [name, tensor] of tensors) {
    const match = name.startsWith(PEFT_PREFIX) ? TENSOR_NAME.exec(name.slice(PEFT_PREFIX.length)) : null;
    if (!match) fail(`unexpected tensor ${name}`, { tensor: name });
    const [, layerText, , moduleName, which] = match!;
    const layer = Number(layerText);
    const module = moduleName as LoraModule;
    if (layer >= spec.layers || !config.target_modules.includes(module)) {
      fail(`tensor ${name} does not match the model or target_modules`, { tensor: name });
    }
    if (tensor.shape.length !== 2) fail(`tensor ${name} is not 2-D`, { tensor: name });
    if (!tensor.data.every(Number.isFinite)) fail(`tensor ${name} holds non-finite values`, { tensor: name });
    const entry = halves.get(factorKey(layer, module)) ?? {};
    if (which === 'A') Object.assign(entry, { a: tensor.data, aShape: tensor.shape });
    else Object.assign(entry, { b: tensor.data, bShape: tensor.shape });
    halves.set(factorKey(layer, module), entry);
  }
  if (halves.size === 0) fail(`${ADAPTER_WEIGHTS_FILE} holds no LoRA tensors`);

  const modules = new Map<string, LoraFactors>();
  for (const [key, { a, b, aShape, bShape }] of halves) {
    if (!a || !b || !aShape || !bShape)
      fail(`${key}: lora_A and lora_B must both be present`, { module: key });
    const module = key.split('.')[1] as LoraModule;
    const [inFeatures, outFeatures] = spec.moduleShape(module);
    const rank = aShape![0];
    if (aShape![1] !== inFeatures || bShape![0] !== outFeatures || bShape![1] !== rank || rank === 0) {
      fail(
        `${key}: lora_A ${JSON.stringify(aShape)} and lora_B ${JSON.stringify(bShape)} do not fit [r, ${inFeatures}] and [${outFeatures}, r]`,
        {
          module: key,
        },
      );
    }
    const path = ModelSpec.modulePath(Number(key.split('.')[0]), module);
    const scale = scalingOf(config, path, rank);
    modules.set(key, { rank, a: a!, b: b!.map((v) => v * scale) });
  }
  const digest = adapterDigest({
    [ADAPTER_CONFIG_FILE]: sha256Hex(configBytes),
    [ADAPTER_WEIGHTS_FILE]: sha256Hex(weightBytes),
  });
  const adapter: LoraAdapter = {
    digest,
    bytes: sizes[0] + sizes[1],
    modules,
    routeKey: config[ROUTE_KEY_FIELD] ?? null,
  };
  const segments = config[ROUTE_SEGMENTS_FIELD];
  if (segments) adapter.segments = splitSegments(adapter, segments, fail);
  return adapter;
}

/**
 * Loads an adapter for serving. A folder named by a digest (the content-addressed store) must hash to that name:
 * one changed byte, on disk or in a copy, and it is refused with ADAPTER_TAMPERED instead of being served under
 * the approved digest's lineage.
 */
export async function loadServedAdapter(
  folder: string,
  spec: ModelSpec,
  maxBytes: number,
): Promise<LoraAdapter> {
  const adapter = await loadLoraAdapter(folder, spec, maxBytes);
  const address = basename(folder);
  if (/^[0-9a-f]{64}$/.test(address) && address !== adapter.digest) {
    throw new InferenceError(
      InferenceErrorCode.ADAPTER_TAMPERED,
      `adapter ${address.slice(0, 12)} does not match its digest: its files were changed after it was stored`,
      { digest: address },
    );
  }
  return adapter;
}

/** The parts of a concatenated adapter: rows of A and columns of B, by each part's rank per module. */
function splitSegments(
  whole: LoraAdapter,
  segments: RouteSegment[],
  fail: (message: string) => never,
): LoraAdapter[] {
  const offsets = new Map<string, number>();
  const parts = segments.map((segment) => {
    const modules = new Map<string, LoraFactors>();
    for (const [path, rank] of Object.entries(segment.ranks)) {
      const key = factorKeyOfPath(path);
      const factors = key === null ? undefined : whole.modules.get(key);
      if (!factors || key === null)
        return fail(`${ROUTE_SEGMENTS_FIELD} names ${path}, which the adapter lacks`);
      const from = offsets.get(key) ?? 0;
      if (from + rank > factors.rank)
        return fail(`${ROUTE_SEGMENTS_FIELD}: ${path} holds fewer ranks than its parts`);
      offsets.set(key, from + rank);
      if (rank === 0) continue;
      const inFeatures = factors.a.length / factors.rank;
      const out = factors.b.length / factors.rank;
      const b = new Float32Array(out * rank);
      for (let o = 0; o < out; o++)
        b.set(factors.b.subarray(o * factors.rank + from, o * factors.rank + from + rank), o * rank);
      modules.set(key, { rank, a: factors.a.slice(from * inFeatures, (from + rank) * inFeatures), b });
    }
    return { digest: whole.digest, bytes: 0, modules, routeKey: segment.key };
  });
  for (const [key, factors] of whole.modules) {
    if ((offsets.get(key) ?? 0) !== factors.rank)
      fail(`${ROUTE_SEGMENTS_FIELD} do not cover every rank of ${key}`);
  }
  return parts;
}

/** `model.layers.3.mlp.up_proj` -> `3.up_proj`, the key of a module's factors. */
function factorKeyOfPath(path: string): string | null {
  const match = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+)$/.exec(path);
  return match ? `${match[1]}.${match[2]}` : null;
}

/** How an adapter is routed, as its config says: its key, or the keys of its parts (a concatenation). */
export interface AdapterRouting {
  key: string[] | null;
  segments: (string[] | null)[] | null;
}

/**
 * An adapter folder's routing, read from its config without loading its weights (null keys when it carries none,
 * or when the config cannot be read: loading the adapter then fails with the reason).
 */
export function readRouting(folder: string): AdapterRouting {
  try {
    const raw: unknown = JSON.parse(readFileSync(join(folder, ADAPTER_CONFIG_FILE), 'utf8'));
    const parsed = adapterConfigSchema.safeParse(raw);
    if (!parsed.success) return { key: null, segments: null };
    const segments = parsed.data[ROUTE_SEGMENTS_FIELD]?.map((s) => s.key) ?? null;
    return { key: parsed.data[ROUTE_KEY_FIELD] ?? null, segments };
  } catch {
    return { key: null, segments: null };
  }
}

/** The route key of an adapter folder (null: it serves every prompt, or its parts are routed each on its own). */
export const readRouteKey = (folder: string): string[] | null => readRouting(folder).key;

/** Whether an adapter so routed serves `text` at all (a concatenation: whether any of its parts does). */
export const routesAny = (routing: AdapterRouting, text: string | readonly string[]): boolean =>
  routing.segments ? routing.segments.some((key) => routes(key, text)) : routes(routing.key, text);

/** Writes `key` into the adapter_config.json of a freshly trained adapter (before it is addressed by digest). */
export function writeRouteKey(folder: string, key: string[]): void {
  const path = join(folder, ADAPTER_CONFIG_FILE);
  const config = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    path,
    `${JSON.stringify({ ...config, [ROUTE_KEY_FIELD]: routeKeySchema.parse(key) }, null, 2)}\n`,
  );
}

/**
 * An adapter's address: SHA-256 over "file:sha256" lines of its config and weights, so a verifier can recompute
 * it from the two files alone.
 */
export function adapterDigest(
  fileSha256: Record<typeof ADAPTER_CONFIG_FILE | typeof ADAPTER_WEIGHTS_FILE, string>,
): string {
  return sha256Hex(
    `${ADAPTER_CONFIG_FILE}:${fileSha256[ADAPTER_CONFIG_FILE]}\n${ADAPTER_WEIGHTS_FILE}:${fileSha256[ADAPTER_WEIGHTS_FILE]}\n`,
  );
}

/** PEFT's scaling: alpha / r (alpha / sqrt(r) with rsLoRA), with per-module alpha overrides. */
export function scalingOf(
  config: z.infer<typeof adapterConfigSchema>,
  modulePath: string,
  rank: number,
): number {
  let alpha = config.lora_alpha;
  for (const [key, value] of Object.entries(config.alpha_pattern)) {
    if (modulePath === key || modulePath.endsWith(`.${key}`)) alpha = value;
  }
  return config.use_rslora ? alpha / Math.sqrt(rank) : alpha / rank;
}
