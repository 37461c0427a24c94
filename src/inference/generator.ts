import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { KvCache } from 'src/inference/kv-cache';
import { LlamaSession } from 'src/inference/llama-session';
import { LoraAdapter } from 'src/inference/lora-adapter';
import { sampleToken, SamplingParams, seededRandom } from 'src/inference/sampling';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { ModelSpec } from 'src/inference/model-spec';

export interface GenerationParams extends SamplingParams {
  maxTokens: number;
  /** Generation ends before the first occurrence of any of these strings. */
  stop: string[];
  seed?: number;
}

export interface GenerationRequest {
  prompt: string;
  /** The adapter stack, base first; empty for the base model. */
  adapters: LoraAdapter[];
  params: GenerationParams;
}

export type FinishReason = 'stop' | 'length' | 'eos';

export interface GenerationResult {
  text: string;
  tokenIds: number[];
  promptTokens: number;
  finishReason: FinishReason;
}

/** One sequence being generated: its prompt ids, what it has produced so far, and why it ended. */
export interface Row {
  prompt: number[];
  generated: number[];
  text: string;
  done: FinishReason | null;
  random: () => number;
  request: GenerationRequest;
}

/** Encodes a request's prompt and checks that prompt plus maxTokens fit the model's positions. */
export async function prepareRow(
  spec: ModelSpec,
  tokenizer: TextTokenizer,
  request: GenerationRequest,
  defaultSeed: number,
): Promise<Row> {
  const prompt = await tokenizer.encode(request.prompt);
  if (prompt.length + request.params.maxTokens > spec.maxPositions) {
    throw new InferenceError(
      InferenceErrorCode.GENERATION_INVALID,
      `prompt (${prompt.length} tokens) plus maxTokens (${request.params.maxTokens}) exceeds the model's ${spec.maxPositions} positions`,
      { promptTokens: prompt.length, maxPositions: spec.maxPositions },
    );
  }
  const seed = request.params.seed ?? defaultSeed;
  return { prompt, generated: [], text: '', done: null, random: seededRandom(seed), request };
}

export function resultOf(row: Row): GenerationResult {
  return {
    text: row.text,
    tokenIds: row.generated,
    promptTokens: row.prompt.length,
    finishReason: row.done ?? 'length',
  };
}

/**
 * Generates for a batch of requests in one run of shared forward passes: the prompts are left-padded into one
 * prefill, then every step decodes one token for each row with the KV cache. Rows may use different adapter
 * stacks and sampling settings.
 */
export async function generateBatch(
  session: LlamaSession,
  tokenizer: TextTokenizer,
  requests: GenerationRequest[],
): Promise<GenerationResult[]> {
  const spec = session.spec;
  const rows: Row[] = await Promise.all(
    requests.map((request, i) =>
      prepareRow(spec, tokenizer, request, Math.floor(Math.random() * 2 ** 31) + i),
    ),
  );
  if (rows.length === 0) return [];
  const width = Math.max(...rows.map((r) => r.prompt.length));
  const lora = session.loraFeeds(rows.map((r) => r.request.adapters));
  // Left-padded: each row's tokens are the last positions of its mask, and each decode step adds one.
  const realTokens = rows.map((r) => r.prompt.length);
  let positions = rows.map((r) => [
    ...Array<number>(width - r.prompt.length).fill(0),
    ...r.prompt.map((_, j) => j),
  ]);
  let inputIds = rows.map((r) => [...Array<number>(width - r.prompt.length).fill(spec.padId), ...r.prompt]);
  // Room for the prompts and every token but the last (whose keys and values are never needed).
  const capacity = width + Math.max(...rows.map((r) => r.request.params.maxTokens));
  const cache = KvCache.zeros(2 * spec.layers, [rows.length, spec.kvHeads, capacity, spec.headDim]);
  const vocab = spec.vocabSize;

  while (rows.some((r) => !r.done)) {
    const { logits, fresh } = await session.forward({
      inputIds,
      attentionMask: { realTokens },
      positionIds: positions,
      past: cache,
      lora,
    });
    cache.append(fresh);
    const tokens = inputIds[0].length;
    const next = await Promise.all(
      rows.map(async (row, b) => {
        if (row.done) return spec.padId;
        const token = sampleToken(
          logits,
          (b * tokens + tokens - 1) * vocab,
          vocab,
          row.request.params,
          row.random,
        );
        await advance(row, token, spec.eosIds, tokenizer);
        return token;
      }),
    );
    inputIds = next.map((t) => [t]);
    realTokens.forEach((_, b) => (realTokens[b] += 1));
    positions = positions.map((p) => [p[p.length - 1] + 1]);
  }
  return rows.map(resultOf);
}

/** Takes a sampled token into a row: ends it on EOS, a stop string or maxTokens. */
export async function advance(
  row: Row,
  token: number,
  eosIds: number[],
  tokenizer: TextTokenizer,
): Promise<void> {
  const { maxTokens, stop } = row.request.params;
  if (eosIds.includes(token)) {
    row.done = 'eos';
    return;
  }
  row.generated.push(token);
  row.text = await tokenizer.decode(row.generated);
  const cut = firstStop(row.text, stop);
  if (cut !== null) {
    row.text = row.text.slice(0, cut);
    row.done = 'stop';
  } else if (row.generated.length >= maxTokens) {
    row.done = 'length';
  }
}

function firstStop(text: string, stop: string[]): number | null {
  let cut: number | null = null;
  for (const s of stop) {
    const at = s ? text.indexOf(s) : -1;
    if (at >= 0 && (cut === null || at < cut)) cut = at;
  }
  return cut;
}
