/**
 * The serving benchmark's run as markdown for docs/benchmarks.md: `npm run bench` rewrites the block between
 * `<!-- bench:serving:begin -->` and `<!-- bench:serving:end -->`, so the docs always show bench/results.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface Side {
  tokensPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface ServingRun {
  startedAt: string;
  machine: { cpus: number; model?: string; loadavgBefore: number[]; loadavgAfter: number[] };
  setup: { promptTokens: number; maxTokens: number; secondsPerLevel: number; inferenceThreads: number };
  levels: {
    clients: number;
    gateway: Side & { errors: number };
    direct: Side;
    unbatched: { tokensPerSec: number; before: Side; after: Side };
    batchingSpeedup: number;
    p50OverDirect: number;
  }[];
  latencyAt1Client: {
    rounds: number;
    gatewayP50Ms: number;
    directP50Ms: number;
    overhead: number;
    roundsUnder10Percent: number;
  } | null;
  overload: { clients: number; capacity: number; statusCounts: Record<string, number>; p50Ms: number } | null;
}

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** `source`: the results file the run was written to, named in the text. */
export function servingReport(run: ServingRun, source: string): string {
  const when = run.startedAt.replace('T', ' ').slice(0, 16);
  const load = (xs: number[]) => xs[0].toFixed(1);
  const lines = [
    `### \`npm run bench\`, ${when} UTC`,
    '',
    `${run.machine.cpus} cores (${run.machine.model ?? 'unknown CPU'}), load average ${load(run.machine.loadavgBefore)} ` +
      `before and ${load(run.machine.loadavgAfter)} after; ${run.setup.promptTokens} prompt tokens, ` +
      `\`max_tokens\` ${run.setup.maxTokens}, ${run.setup.secondsPerLevel} s a level, ` +
      `${run.setup.inferenceThreads} onnxruntime threads. Written by the bench from \`${source}\`.`,
    '',
    '| clients | gateway tokens/s | gateway p50 / p99 ms | errors | direct tokens/s | direct p50 / p99 ms | unbatched tokens/s (before, after) | batching gain |',
    '| ------: | ---------------: | -------------------: | -----: | --------------: | ------------------: | ---------------------------------: | ------------: |',
    ...run.levels
      .map((l) =>
        [
          l.clients,
          int(l.gateway.tokensPerSec),
          `${int(l.gateway.p50Ms)} / ${int(l.gateway.p99Ms)}`,
          l.gateway.errors,
          int(l.direct.tokensPerSec),
          `${int(l.direct.p50Ms)} / ${int(l.direct.p99Ms)}`,
          `${int(l.unbatched.tokensPerSec)} (${int(l.unbatched.before.tokensPerSec)}, ${int(l.unbatched.after.tokensPerSec)})`,
          `${l.batchingSpeedup.toFixed(2)}x`,
        ].join(' | '),
      )
      .map((row) => `| ${row} |`),
    '',
  ];
  const latency = run.latencyAt1Client;
  if (latency) {
    const level = run.levels.find((l) => l.clients === 1);
    lines.push(
      `- Latency at 1 client in alternating blocks: gateway p50 ${latency.gatewayP50Ms} ms, direct ` +
        `${latency.directP50Ms} ms, **${pct(latency.overhead)}** (median round; ${latency.roundsUnder10Percent} of ` +
        `${latency.rounds} rounds at or under 10%).` +
        (level ? ` The 1-client level's own p50 against direct: ${pct(level.p50OverDirect)}.` : ''),
    );
  }
  if (run.overload) {
    const counts = Object.entries(run.overload.statusCounts)
      .map(([status, n]) => `${int(n)} × ${status}`)
      .join(', ');
    lines.push(
      `- ${run.overload.clients} clients against ${run.overload.capacity} places of batch and queue: ${counts} ` +
        `(p50 ${int(run.overload.p50Ms)} ms).`,
    );
  }
  return lines.join('\n');
}

/** Replaces what stands between the `name` markers of a markdown file; the file must have both. */
export function writeBetweenMarkers(file: string, name: string, text: string): void {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const doc = readFileSync(file, 'utf8');
  const from = doc.indexOf(begin);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${begin} ... ${end} block`);
  writeFileSync(file, `${doc.slice(0, from + begin.length)}\n\n${text}\n\n${doc.slice(to)}`);
}
