/**
 * Serving benchmark: the gateway under closed-loop load on /v1/completions at 1, 8, 32 and 128 concurrent
 * clients, beside a "direct" loop calling onnxruntime-node in this process (same model and generation, batch 1)
 * and an "unbatched" gateway (SERVING_MAX_BATCH=1). A last probe pushes more clients than batch + queue hold,
 * to show the excess refused with clean 429s.
 *
 *   npm run bench:serving [-- --seconds 15]   (writes bench/results.json and its table in docs/benchmarks.md)
 *   node dist/bench/serving.js --levels 32 --skip-overload --out /tmp/probe.json   (one level, a quick ratio)
 *
 * Only one thing runs at a time (2 cores): each gateway idles while the other is measured, and the direct
 * loop runs with both idle. Unbatched and direct are measured just before and just after each gateway run.
 * The latency added at 1 client is also measured in alternating blocks of gateway requests and direct
 * generations (`latencyAt1Client`, see `alternatingLatency`): the target is judged on that figure.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent } from 'node:http';
import { Gateway, load, LoadResult, post, startGateway } from './gateway-process';
import { benchPrompts } from './prompts';
import { servingReport, writeBetweenMarkers } from './serving-report';
import { loadConfig } from 'src/config/app-config';
import { generateBatch, GenerationRequest } from 'src/inference/generator';
import { LlamaSession } from 'src/inference/llama-session';
import { ModelSpec } from 'src/inference/model-spec';
import { TextTokenizer } from 'src/inference/text-tokenizer';

const MODEL_DIR = resolve(process.env.MODEL_DIR ?? 'models/default');
const RESULTS_FILE = 'bench/results.json';
const DOCS_FILE = 'docs/benchmarks.md';
const MAX_TOKENS = 64;
const LEVELS = [1, 8, 32, 128];
const MAX_BATCH = 32;
const MAX_QUEUE = 256;
/** More clients than batch and queue hold together: the excess must get 429s, nothing else. */
const OVERLOAD_CLIENTS = 384;
/** The bench body's generation, as the direct loop runs it. */
const DIRECT_PARAMS = { maxTokens: MAX_TOKENS, temperature: 0, topP: 1, stop: [] as string[] };
/** Rounds of the 1-client latency, and requests counted per block (see `alternatingLatency`). */
const LATENCY_ROUNDS = 20;
const LATENCY_BLOCK = 12;

const percentile = (xs: number[], q: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

/** The plain loop: one generation at a time through generator + llama-session, no HTTP, no batching. */
async function direct(session: LlamaSession, tokenizer: TextTokenizer, prompt: string, seconds: number) {
  const request: GenerationRequest = { prompt, adapters: [], params: { ...DIRECT_PARAMS } };
  const latencies: number[] = [];
  let tokens = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    const t0 = performance.now();
    const [result] = await generateBatch(session, tokenizer, [request]);
    latencies.push(performance.now() - t0);
    tokens += result.tokenIds.length;
  }
  const elapsed = (performance.now() - started) / 1000;
  return {
    tokensPerSec: Math.round(tokens / elapsed),
    p50Ms: Number(percentile(latencies, 0.5).toFixed(1)),
    p99Ms: Number(percentile(latencies, 0.99).toFixed(1)),
    requests: latencies.length,
  };
}

/**
 * The latency the gateway adds at 1 client, from alternating blocks: `rounds` times, a block of gateway requests
 * (over HTTP from this process) then a block of direct generations, each round's figure being the ratio of the
 * two blocks' medians; the result is the median round. Blocks of about a second follow the shared machine's
 * drift (tens of percent within a minute). A block's first request is left out: onnxruntime's threads spin on
 * for a while after a run, so the other side's last run still competes with it for the two cores.
 */
async function alternatingLatency(
  gateway: Gateway,
  session: LlamaSession,
  tokenizer: TextTokenizer,
  prompt: string,
  body: Record<string, unknown>,
  rounds: number,
) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const request: GenerationRequest = { prompt, adapters: [], params: { ...DIRECT_PARAMS } };
  const block = async (run: () => Promise<unknown>): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i <= LATENCY_BLOCK; i++) {
      const t0 = performance.now();
      await run();
      if (i > 0) ms.push(performance.now() - t0);
    }
    return ms;
  };
  const gatewayMs: number[] = [];
  const directMs: number[] = [];
  const ratios: number[] = [];
  let errors = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      const g = await block(async () => {
        if ((await post(gateway, '/v1/completions', body, agent)).status !== 200) errors++;
      });
      const d = await block(() => generateBatch(session, tokenizer, [request]));
      gatewayMs.push(...g);
      directMs.push(...d);
      ratios.push(percentile(g, 0.5) / percentile(d, 0.5) - 1);
    }
  } finally {
    agent.destroy();
  }
  return {
    rounds,
    requestsPerBlock: LATENCY_BLOCK,
    errors,
    gatewayP50Ms: Number(percentile(gatewayMs, 0.5).toFixed(1)),
    directP50Ms: Number(percentile(directMs, 0.5).toFixed(1)),
    overhead: Number(percentile(ratios, 0.5).toFixed(3)),
    roundsUnder10Percent: ratios.filter((x) => x <= 0.1).length,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '15' },
      levels: { type: 'string', default: LEVELS.join(',') },
      'skip-overload': { type: 'boolean', default: false },
      out: { type: 'string', default: RESULTS_FILE },
      // The run's table in the docs; by default only for a run written to bench/results.json.
      docs: { type: 'string' },
    },
  });
  const docs = values.docs ?? (values.out === RESULTS_FILE ? DOCS_FILE : undefined);
  const seconds = Number(values.seconds);
  const levelsToRun = values.levels.split(',').map(Number);
  const [prompt] = benchPrompts(MODEL_DIR, 1);
  const body = { model: 'bench', prompt, max_tokens: MAX_TOKENS, temperature: 0 };
  // Limits high enough that only batch and queue bound the load: the bench measures the serving path.
  const limits = {
    KEY_RATE_PER_SECOND: '100000',
    KEY_RATE_BURST: '100000',
    KEY_API_RATE_PER_SECOND: '100000',
    KEY_API_RATE_BURST: '100000',
    KEY_MAX_CONCURRENT_STREAMS: '1000',
    SERVING_MAX_QUEUE: String(MAX_QUEUE),
  };
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();

  const spec = ModelSpec.load(MODEL_DIR);
  const tokenizer = TextTokenizer.fromFile(spec.tokenizerPath);
  // The gateways' own onnxruntime thread count (INFERENCE_THREADS), so the direct loop is the same engine.
  const inferenceThreads = loadConfig().INFERENCE_THREADS;
  const session = await LlamaSession.create(spec, inferenceThreads);
  let batched: Gateway | undefined;
  let unbatched: Gateway | undefined;
  try {
    batched = await startGateway({ ...limits, SERVING_MAX_BATCH: String(MAX_BATCH) });
    unbatched = await startGateway({ ...limits, SERVING_MAX_BATCH: '1' });
    // Warm-up: first requests load lazily-initialised paths in each process.
    await load(batched, 4, 2, body);
    await load(unbatched, 1, 2, body);
    await direct(session, tokenizer, prompt, 1);

    // Throughput drifts with the other work on this shared machine: unbatched and direct are measured just
    // before and just after each gateway run and averaged, so each ratio compares the same minutes.
    const levels = [];
    for (const clients of levelsToRun) {
      const side = Math.max(3, Math.round(seconds / 3));
      const singleBefore = await load(unbatched, clients, side, body);
      const plainBefore = await direct(session, tokenizer, prompt, side);
      const gateway = await load(batched, clients, seconds, body);
      const plainAfter = await direct(session, tokenizer, prompt, side);
      const singleAfter = await load(unbatched, clients, side, body);
      const unbatchedTokensPerSec = Math.round((singleBefore.tokensPerSec + singleAfter.tokensPerSec) / 2);
      const plain = {
        tokensPerSec: Math.round((plainBefore.tokensPerSec + plainAfter.tokensPerSec) / 2),
        p50Ms: Number(((plainBefore.p50Ms + plainAfter.p50Ms) / 2).toFixed(1)),
        p99Ms: Math.max(plainBefore.p99Ms, plainAfter.p99Ms),
        requests: plainBefore.requests + plainAfter.requests,
      };
      const level = {
        clients,
        gateway: pick(gateway),
        direct: plain,
        unbatched: {
          tokensPerSec: unbatchedTokensPerSec,
          before: pick(singleBefore),
          after: pick(singleAfter),
        },
        batchingSpeedup: Number((gateway.tokensPerSec / unbatchedTokensPerSec).toFixed(2)),
        // Only at 1 client is this the gateway's own cost; above it, it is queueing and batching time.
        p50OverDirect: Number((gateway.p50Ms / plain.p50Ms - 1).toFixed(3)),
      };
      console.error(JSON.stringify(level));
      levels.push(level);
    }
    const latencyAt1Client = levelsToRun.includes(1)
      ? await alternatingLatency(batched, session, tokenizer, prompt, body, LATENCY_ROUNDS)
      : null;
    if (latencyAt1Client) console.error(JSON.stringify({ latencyAt1Client }));
    const over = values['skip-overload']
      ? null
      : await load(batched, OVERLOAD_CLIENTS, Math.max(5, Math.round(seconds / 2)), body);
    const overload = over && {
      clients: OVERLOAD_CLIENTS,
      capacity: MAX_BATCH + MAX_QUEUE,
      statusCounts: over.statusCounts,
      tokensPerSec: over.tokensPerSec,
      p50Ms: over.p50Ms,
      clean: Object.keys(over.statusCounts).every((s) => s === '200' || s === '429'),
    };
    if (overload) console.error(JSON.stringify({ overload }));

    const result = {
      startedAt,
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        loadavgBefore: loadBefore,
        loadavgAfter: loadavg(),
      },
      setup: {
        model: MODEL_DIR,
        promptTokens: (await tokenizer.encode(prompt)).length,
        maxTokens: MAX_TOKENS,
        temperature: 0,
        secondsPerLevel: seconds,
        inferenceThreads,
        gateway: { SERVING_MAX_BATCH: MAX_BATCH, SERVING_MAX_QUEUE: MAX_QUEUE, LOG_LEVEL: 'warn' },
        unbatched: { SERVING_MAX_BATCH: 1, SERVING_MAX_QUEUE: MAX_QUEUE },
        load: 'autocannon (closed loop, one process), POST /v1/completions over loopback',
      },
      levels,
      latencyAt1Client,
      overload,
      targets: {
        latencyOverheadAt1Client: {
          target: '<= 0.10',
          measured: latencyAt1Client?.overhead,
          method: 'median round of alternating gateway and direct blocks (latencyAt1Client)',
          levelP50OverDirect: levels.find((l) => l.clients === 1)?.p50OverDirect,
        },
        batchingSpeedupAt32: {
          target: '>= 4',
          measured: levels.find((l) => l.clients === 32)?.batchingSpeedup,
        },
        errorsWithinLimits: { target: 0, measured: levels.reduce((n, l) => n + l.gateway.errors, 0) },
        overloadOnly429: { target: true, measured: overload?.clean },
      },
    };
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    if (docs) writeBetweenMarkers(docs, 'bench:serving', servingReport(result, values.out));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await batched?.stop();
    await unbatched?.stop();
    await session.release();
  }
}

function pick(r: LoadResult) {
  return {
    tokensPerSec: r.tokensPerSec,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.errors,
    requests: r.requests,
    completionTokens: r.completionTokens,
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
