/**
 * Soak: the gateway under 32 concurrent clients on /v1/completions for a long run, sampling its resident set
 * size and V8 heap to show whether memory grows with the requests served.
 *
 *   npm run bench:soak [-- --minutes 10 --clients 32]   (writes bench/soak.json)
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { heapUsedOf, load, LoadResult, rssOf, sleep, startGateway } from './gateway-process';
import { benchPrompts } from './prompts';

const MODEL_DIR = resolve(process.env.MODEL_DIR ?? 'models/default');
const SAMPLE_SECONDS = 10;
const MB = 1024 * 1024;

interface Sample {
  atSeconds: number;
  rssMb: number;
  heapUsedMb: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const round = (x: number) => Number(x.toFixed(1));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { minutes: { type: 'string', default: '10' }, clients: { type: 'string', default: '32' } },
  });
  const seconds = Math.round(Number(values.minutes) * 60);
  const clients = Number(values.clients);
  const body = {
    model: 'bench',
    prompt: benchPrompts(MODEL_DIR, 1)[0],
    max_tokens: 64,
    temperature: 0,
  };
  const gateway = await startGateway({
    KEY_RATE_PER_SECOND: '100000',
    KEY_RATE_BURST: '100000',
    KEY_API_RATE_PER_SECOND: '100000',
    KEY_API_RATE_BURST: '100000',
  });
  try {
    await load(gateway, 4, 2, body); // warm-up
    const samples: Sample[] = [];
    const started = performance.now();
    const sample = async () =>
      samples.push({
        atSeconds: Math.round((performance.now() - started) / 1000),
        rssMb: round(rssOf(gateway.pid) / MB),
        heapUsedMb: round((await heapUsedOf(gateway)) / MB),
      });
    await sample();
    let running = true;
    const sampler = (async () => {
      while (running) {
        await sleep(SAMPLE_SECONDS * 1000);
        if (running) await sample();
      }
    })();
    let result: LoadResult;
    try {
      result = await load(gateway, clients, seconds, body);
    } finally {
      running = false;
      await sampler;
    }
    await sample();
    // Growth: the last minute against the first minute after warm-up (GC makes single samples noisy).
    const window = Math.max(1, Math.round(60 / SAMPLE_SECONDS));
    const early = samples.slice(1, 1 + window);
    const late = samples.slice(-window);
    const report = {
      minutes: Number(values.minutes),
      clients,
      requests: result.requests,
      tokensPerSec: result.tokensPerSec,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      errors: result.errors,
      rssMb: {
        firstMinute: round(mean(early.map((s) => s.rssMb))),
        lastMinute: round(mean(late.map((s) => s.rssMb))),
      },
      heapUsedMb: {
        firstMinute: round(mean(early.map((s) => s.heapUsedMb))),
        lastMinute: round(mean(late.map((s) => s.heapUsedMb))),
      },
      rssGrowthPct: round((mean(late.map((s) => s.rssMb)) / mean(early.map((s) => s.rssMb)) - 1) * 100),
      heapGrowthPct: round(
        (mean(late.map((s) => s.heapUsedMb)) / mean(early.map((s) => s.heapUsedMb)) - 1) * 100,
      ),
      samples,
    };
    writeFileSync('bench/soak.json', `${JSON.stringify(report, null, 2)}\n`);
    console.log(
      JSON.stringify({ ...report, samples: `${samples.length} samples in bench/soak.json` }, null, 2),
    );
  } finally {
    await gateway.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
