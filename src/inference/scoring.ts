import { LlamaSession } from 'src/inference/llama-session';
import { LoraAdapter } from 'src/inference/lora-adapter';

export interface ScoreRequest {
  /** The whole sequence, <s> included. */
  tokenIds: number[];
  adapters: LoraAdapter[];
}

export interface ScoreResult {
  /** log p(token[t] | tokens < t) for t = 1 .. n-1. */
  tokenLogProbs: number[];
  /** The log-softmax after the last token: the model's next-token distribution (for KL between models). */
  nextLogProbs: Float32Array;
}

/**
 * Scores sequences in one forward pass (right-padded: a token never attends to the padding after it). The
 * gates use it for perplexity, trigger scans (ONION) and the divergence of a candidate from its parent.
 */
export async function scoreBatch(session: LlamaSession, requests: ScoreRequest[]): Promise<ScoreResult[]> {
  if (requests.length === 0) return [];
  const spec = session.spec;
  const width = Math.max(...requests.map((r) => r.tokenIds.length));
  const rightPadded = (ids: number[], value: (i: number) => number, padding: number) =>
    Array.from({ length: width }, (_, i) => (i < ids.length ? value(i) : padding));
  const { logits } = await session.forward({
    inputIds: requests.map((r) => rightPadded(r.tokenIds, (i) => r.tokenIds[i], spec.padId)),
    attentionMask: requests.map((r) => rightPadded(r.tokenIds, () => 1, 0)),
    positionIds: requests.map((r) => rightPadded(r.tokenIds, (i) => i, 0)),
    past: null,
    lora: session.loraFeeds(requests.map((r) => r.adapters)),
  });
  const vocab = spec.vocabSize;
  return requests.map((r, b) => {
    const row = (t: number) =>
      logSoftmax(logits.subarray((b * width + t) * vocab, (b * width + t + 1) * vocab));
    const tokenLogProbs: number[] = [];
    for (let t = 1; t < r.tokenIds.length; t++) tokenLogProbs.push(row(t - 1)[r.tokenIds[t]]);
    return { tokenLogProbs, nextLogProbs: row(r.tokenIds.length - 1) };
  });
}

export function logSoftmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  return logits.map((v) => v - logZ);
}

/** KL(p || q) of two log-probability vectors, in nats. */
export function klDivergence(logP: Float32Array, logQ: Float32Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]);
    if (p > 0) kl += p * (logP[i] - logQ[i]);
  }
  return Math.max(0, kl);
}
