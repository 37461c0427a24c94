/**
 * The batching gain alone, in one run: the gateway with continuous batching against the same gateway serving
 * one request at a time (SERVING_MAX_BATCH=1), both under the same closed-loop load on /v1/completions,
 * measured in alternating windows so that both see the same minutes of a shared machine. With
 * `--baseline-main`, a third gateway from another build (e.g. a copy of an older `dist/`) runs in the same
 * rotation, so a change to the batcher is compared against the old one in the same minutes; `--baseline-model`
 * gives that gateway its own model folder (a build from before a change to the exported graph needs the model
 * exported then).
 *
 *   npm run build && node dist/bench/batching.js [--clients 32] [--rounds 5] [--seconds 6] [--prompts 1]
 *       [--baseline-main /tmp/dist-before/src/main.js [--baseline-model /tmp/models-before]]
 *       [--out bench/batching.json]
 *
 * Requests, prompt and limits are those of bench/serving.ts (46 prompt tokens, max_tokens 64, temperature 0);
 * `--prompts N` cycles through the first N held-out passages instead of the first alone.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Gateway, load, startGateway } from './gateway-process';
import { benchPrompts } from './prompts';

const MODEL_DIR = resolve(process.env.MODEL_DIR ?? 'models/default');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '32' },
      rounds: { type: 'string', default: '5' },
      seconds: { type: 'string', default: '6' },
      'max-batch': { type: 'string', default: '32' },
      // More than 1: requests take that many passages in turn, so rows differ in length and leave at different
      // steps (with one prompt, rows that enter together leave together: completions come in waves).
      prompts: { type: 'string', default: '1' },
      'baseline-main': { type: 'string' },
      'baseline-model': { type: 'string' },
      out: { type: 'string', default: 'bench/batching.json' },
    },
  });
  const clients = Number(values.clients);
  const seconds = Number(values.seconds);
  const prompts = benchPrompts(MODEL_DIR, Number(values.prompts));
  const body = prompts.map((prompt) => ({ model: 'bench', prompt, max_tokens: 64, temperature: 0 }));
  const limits = {
    KEY_RATE_PER_SECOND: '100000',
    KEY_RATE_BURST: '100000',
    KEY_API_RATE_PER_SECOND: '100000',
    KEY_API_RATE_BURST: '100000',
    KEY_MAX_CONCURRENT_STREAMS: '1000',
    SERVING_MAX_QUEUE: '256',
  };
  const loadBefore = loadavg();
  const startedAt = new Date().toISOString();
  const gateways: Record<string, Gateway> = {};
  try {
    gateways.unbatched = await startGateway({ ...limits, SERVING_MAX_BATCH: '1' });
    gateways.batched = await startGateway({ ...limits, SERVING_MAX_BATCH: values['max-batch'] });
    if (values['baseline-main']) {
      const model = values['baseline-model'];
      gateways.baseline = await startGateway(
        { ...limits, SERVING_MAX_BATCH: values['max-batch'], ...(model && { MODEL_DIR: resolve(model) }) },
        values['baseline-main'],
      );
    }
    for (const gateway of Object.values(gateways)) await load(gateway, 4, 2, body); // warm-up
    const windows: Record<string, number[]> = {};
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const [name, gateway] of Object.entries(gateways)) {
        const result = await load(gateway, clients, seconds, body);
        if (result.errors > 0) throw new Error(`${name}: ${result.errors} errors`);
        (windows[name] ??= []).push(result.tokensPerSec);
        console.error(
          JSON.stringify({ round, name, tokensPerSec: result.tokensPerSec, p50Ms: result.p50Ms }),
        );
      }
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const tokensPerSec = Object.fromEntries(Object.entries(windows).map(([k, xs]) => [k, mean(xs)]));
    // Each round's own ratio compares windows seconds apart; their median shrugs off a round that the other
    // work on the machine disturbed.
    const roundGains = (name: string) =>
      windows[name].map((v, i) => Number((v / windows.unbatched[i]).toFixed(2)));
    const result = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { cpus: cpus().length, loadavgBefore: loadBefore, loadavgAfter: loadavg() },
      setup: {
        clients,
        rounds: Number(values.rounds),
        secondsPerWindow: seconds,
        maxBatch: values['max-batch'],
        prompts: prompts.length,
      },
      windows,
      tokensPerSec,
      batchingGain: Number((tokensPerSec.batched / tokensPerSec.unbatched).toFixed(2)),
      batchingGainByRound: roundGains('batched'),
      batchingGainMedian: median(roundGains('batched')),
      ...(tokensPerSec.baseline && {
        baselineGain: Number((tokensPerSec.baseline / tokensPerSec.unbatched).toFixed(2)),
        baselineGainByRound: roundGains('baseline'),
        baselineGainMedian: median(roundGains('baseline')),
      }),
    };
    writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    for (const gateway of Object.values(gateways)) await gateway.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
