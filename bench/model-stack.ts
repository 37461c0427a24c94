/**
 * Model-stack benchmark: decode speed of the served model, LoRA training speed of the gpu/ trainer against
 * the machine's measured matrix-product peak, and the time to train one self-edit adapter.
 *
 *   npm run bench:model        (writes bench/model-stack.json; docs/benchmarks.md reports it)
 *
 * Every figure is measured in this one run, on this machine, with the shipped default model.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateBatch } from 'src/inference/generator';
import { LlamaSession } from 'src/inference/llama-session';
import { ModelSpec } from 'src/inference/model-spec';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { selfEditSequences } from 'src/training/self-edit-sequences';
import { TrainerClient } from 'src/training/trainer-client';
import { LORA_TARGET_MODULES } from 'src/training/trainer-protocol';
import { benchPrompts, heldoutPassages } from './prompts';

const MODEL_DIR = resolve(process.env.MODEL_DIR ?? 'models/default');
const PYTHON = process.env.SEALGATE_PYTHON ?? '/usr/bin/python3';
const DECODE_TOKENS = 64;
const REPEATS = 3;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Decode tokens/s for `batch` concurrent sequences (prefill excluded from the rate, reported apart). */
async function decodeSpeed(session: LlamaSession, tokenizer: TextTokenizer, batch: number) {
  const prompts = benchPrompts(MODEL_DIR, batch);
  const params = { maxTokens: DECODE_TOKENS, temperature: 0, topP: 1, stop: [] };
  await generateBatch(session, tokenizer, [
    { prompt: prompts[0], adapters: [], params: { ...params, maxTokens: 4 } },
  ]);
  const rates: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const started = performance.now();
    const results = await generateBatch(
      session,
      tokenizer,
      prompts.map((prompt) => ({ prompt, adapters: [], params })),
    );
    const seconds = (performance.now() - started) / 1000;
    rates.push(results.reduce((n, x) => n + x.tokenIds.length, 0) / seconds);
  }
  return { batch, tokensPerSec: Math.round(median(rates)), runs: rates.map(Math.round) };
}

/** The machine's float32 matrix-product rate in PyTorch with the trainer's thread count (GFLOP/s). */
function matmulPeak(threads: number): number {
  const script = [
    'import time, torch',
    `torch.set_num_threads(${threads})`,
    'best = 0.0',
    'for n in (256, 512, 1024):',
    '    a, b = torch.randn(n, n), torch.randn(n, n)',
    '    for _ in range(3): a @ b',
    '    reps = max(3, int(2e9 / (2 * n ** 3)))',
    '    t = time.perf_counter()',
    '    for _ in range(reps): a @ b',
    '    best = max(best, 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9)',
    'print(best)',
  ].join('\n');
  return Number(execFileSync(PYTHON, ['-c', script]).toString().trim());
}

async function main(): Promise<void> {
  const spec = ModelSpec.load(MODEL_DIR);
  const tokenizer = TextTokenizer.fromFile(spec.tokenizerPath);
  const session = await LlamaSession.create(spec, 1);
  const decode = [await decodeSpeed(session, tokenizer, 1), await decodeSpeed(session, tokenizer, 8)];
  await session.release();

  const threads = cpus().length;
  const trainer = new TrainerClient({ env: { SEALGATE_TORCH_THREADS: String(threads) } });
  const work = mkdtempSync(join(tmpdir(), 'sealgate-bench-'));
  try {
    await trainer.start();
    const passages = heldoutPassages(MODEL_DIR, 16);
    const manyEdits = (
      await Promise.all(
        passages.map((p) =>
          selfEditSequences(tokenizer, spec.eosIds[0], {
            lines: p.reference_implications,
            passage: { title: p.title, text: p.passage },
          }),
        ),
      )
    ).flat();
    const lora = { r: 16, alpha: 32, target_modules: [...LORA_TARGET_MODULES] };
    const throughput = await trainer.train({
      base_model: MODEL_DIR,
      sequences: manyEdits,
      lora,
      epochs: 3,
      batch_size: 8,
      output_dir: join(work, 'throughput'),
    });
    const params = JSON.parse(readFileSync(join(MODEL_DIR, 'config.json'), 'utf8')) as Record<string, number>;
    const nParams = parameterCount(params);
    const tokensPerSec = throughput.tokens / throughput.seconds;
    const achievedGflops = (6 * nParams * tokensPerSec) / 1e9;
    const peak = matmulPeak(threads);

    const one = passages[0];
    const oneEdit = await selfEditSequences(tokenizer, spec.eosIds[0], {
      lines: one.reference_implications,
      passage: { title: one.title, text: one.passage },
    });
    const startedOne = performance.now();
    const single = await trainer.train({
      base_model: MODEL_DIR,
      sequences: oneEdit,
      lora,
      lr: 3e-3,
      epochs: 10,
      batch_size: 8,
      output_dir: join(work, 'one'),
    });
    const result = {
      machine: { cpus: threads, model: cpus()[0]?.model },
      model: { dir: MODEL_DIR, parameters: nParams },
      decode,
      training: {
        tokensPerSec: Math.round(tokensPerSec),
        device: throughput.device,
        modelGflopsAchieved: Number(achievedGflops.toFixed(2)),
        matmulPeakGflops: Number(peak.toFixed(1)),
        shareOfPeak: Number((achievedGflops / peak).toFixed(3)),
        note: 'model FLOPs = 6 x parameters x training tokens (forward + backward)',
      },
      selfEditAdapter: {
        sequences: oneEdit.length,
        epochs: 10,
        trainerSeconds: Number(single.seconds.toFixed(2)),
        wallSeconds: Number(((performance.now() - startedOne) / 1000).toFixed(2)),
      },
    };
    writeFileSync('bench/model-stack.json', `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await trainer.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Parameters of a Llama config (tied embeddings counted once). */
function parameterCount(c: Record<string, number>): number {
  const d = c.hidden_size;
  const heads = c.num_attention_heads;
  const kv = c.num_key_value_heads ?? heads;
  const hd = c.head_dim ?? d / heads;
  const layer = d * heads * hd * 2 + d * kv * hd * 2 + 3 * d * c.intermediate_size + 2 * d;
  const embeddings = c.vocab_size * d * (c.tie_word_embeddings ? 1 : 2);
  return c.num_hidden_layers * layer + embeddings + d;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
