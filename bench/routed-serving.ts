/**
 * Serving cost of routed edits: decode tokens/s of the shipped model with a stack of N routed adapters (one per
 * edit, rank 16 on every projection, as the shipped inner update trains them) against the same requests with
 * no adapters, in alternating rounds of one run (this machine's speed drifts). Two kinds of traffic:
 *   - unrelated prompts (they name no edited subject: every adapter is routed out);
 *   - prompts about one edited subject (its adapter serves them), against the same adapter alone, unrouted.
 *
 *   npm run bench:routing [-- --edits 100 --rounds 5 --batch 8]   (writes bench/routed-serving.json)
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EngineRow, InferenceEngine } from 'src/inference/inference-engine';
import { ADAPTER_CONFIG_FILE, ADAPTER_WEIGHTS_FILE, PEFT_PREFIX } from 'src/inference/lora-adapter';
import { LORA_MODULES, ModelSpec } from 'src/inference/model-spec';
import { ROUTE_KEY_FIELD } from 'src/inference/route-key';
import { RawTensor, safetensorsBytes } from 'src/inference/safetensors';
import { heldoutPassages } from './prompts';

const MODEL_DIR = resolve(process.env.MODEL_DIR ?? 'models/default');
const RANK = 16;
const TOKENS = 32;

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A PEFT folder of small random factors (what a trained edit weighs), routed by `key` (null: unrouted). */
function writeAdapter(folder: string, spec: ModelSpec, seed: number, key: string[] | null): string {
  mkdirSync(folder, { recursive: true });
  let state = seed * 2654435761;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.02;
  const tensors: Record<string, RawTensor> = {};
  for (let layer = 0; layer < spec.layers; layer++) {
    for (const module of LORA_MODULES) {
      const [inFeatures, out] = spec.moduleShape(module);
      const path = ModelSpec.modulePath(layer, module);
      tensors[`${PEFT_PREFIX}${path}.lora_A.weight`] = {
        dtype: 'F32',
        shape: [RANK, inFeatures],
        values: Float32Array.from({ length: RANK * inFeatures }, random),
      };
      tensors[`${PEFT_PREFIX}${path}.lora_B.weight`] = {
        dtype: 'F32',
        shape: [out, RANK],
        values: Float32Array.from({ length: out * RANK }, random),
      };
    }
  }
  const config = {
    peft_type: 'LORA',
    r: RANK,
    lora_alpha: 2 * RANK,
    target_modules: [...LORA_MODULES],
    ...(key ? { [ROUTE_KEY_FIELD]: key } : {}),
  };
  writeFileSync(join(folder, ADAPTER_CONFIG_FILE), JSON.stringify(config));
  writeFileSync(join(folder, ADAPTER_WEIGHTS_FILE), safetensorsBytes(tensors));
  return folder;
}

async function tokensPerSecond(engine: InferenceEngine, rows: EngineRow[]): Promise<number> {
  const started = performance.now();
  const results = await engine.generate(rows);
  return results.reduce((n, r) => n + r.tokenIds.length, 0) / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const edits = arg('edits', 100);
  const rounds = arg('rounds', 5);
  const batch = arg('batch', 8);
  const spec = ModelSpec.load(MODEL_DIR);
  const passages = heldoutPassages(MODEL_DIR, 500);
  const subjects = passages.slice(0, edits);
  // Unrelated traffic: closed-book questions about subjects no edit is about.
  const unrelated = passages
    .slice(edits, edits + batch)
    .map((p) => `Question: Who or what is ${p.title}?\nAnswer:`);
  const about = subjects.slice(0, batch).map((p) => `Question: Who or what is ${p.title}?\nAnswer:`);
  const work = mkdtempSync(join(tmpdir(), 'sealgate-routed-bench-'));
  const engine = await InferenceEngine.create({
    modelDir: MODEL_DIR,
    threads: Number(process.env.INFERENCE_THREADS ?? 1),
    maxBatch: 32,
    adapterCacheBytes: 4 * 1024 ** 3,
    adapterMaxBytes: 64 * 1024 ** 2,
  });
  try {
    const stack = subjects.map((p, i) =>
      writeAdapter(join(work, `edit-${i}`), spec, i + 1, [p.title.toLowerCase()]),
    );
    const alone = about.map((_, i) => writeAdapter(join(work, `alone-${i}`), spec, i + 1, null));
    const params = { maxTokens: TOKENS, temperature: 0, topP: 1, stop: [] };
    const rows = (prompts: string[], folders: (i: number) => string[]): EngineRow[] =>
      prompts.map((prompt, i) => ({ prompt, params, adapterFolders: folders(i) }));
    const arms = {
      unrelatedNone: rows(unrelated, () => []),
      unrelatedStack: rows(unrelated, () => stack),
      aboutStack: rows(about, () => stack),
      aboutAlone: rows(about, (i) => [alone[i]]),
    };
    for (const r of Object.values(arms))
      await engine.generate(r.map((x) => ({ ...x, params: { ...params, maxTokens: 2 } })));
    const rates: Record<keyof typeof arms, number[]> = {
      unrelatedNone: [],
      unrelatedStack: [],
      aboutStack: [],
      aboutAlone: [],
    };
    for (let round = 0; round < rounds; round++) {
      for (const name of Object.keys(arms) as (keyof typeof arms)[]) {
        rates[name].push(await tokensPerSecond(engine, arms[name]));
      }
    }
    const med = Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Math.round(median(v))]));
    const report = {
      measuredAt: new Date().toISOString(),
      edits,
      rounds,
      batch,
      tokensPerRow: TOKENS,
      tokensPerSecond: med,
      runs: rates,
      // Unrelated traffic with N edits applied against none; traffic about one edit against its adapter alone.
      unrelatedRatio: Number((med.unrelatedStack / med.unrelatedNone).toFixed(3)),
      aboutRatio: Number((med.aboutStack / med.aboutAlone).toFixed(3)),
    };
    writeFileSync('bench/routed-serving.json', `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report));
  } finally {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
