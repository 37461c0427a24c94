/** Choosing the next token from logits: greedy, or temperature with nucleus (top-p) sampling. */

export interface SamplingParams {
  /** 0 is greedy. */
  temperature: number;
  /** Keep the smallest set of tokens whose probability reaches topP (1 keeps all). */
  topP: number;
}

/** A small seeded generator (mulberry32), so a request with a seed samples the same tokens every time. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function argmax(logits: Float32Array, from: number, length: number): number {
  let best = 0;
  let bestValue = logits[from];
  for (let i = 1; i < length; i++) {
    const value = logits[from + i];
    if (value > bestValue) {
      best = i;
      bestValue = value;
    }
  }
  return best;
}

export function sampleToken(
  logits: Float32Array,
  from: number,
  length: number,
  params: SamplingParams,
  random: () => number,
): number {
  if (params.temperature <= 0) return argmax(logits, from, length);
  const max = logits[from + argmax(logits, from, length)];
  const probs = new Float64Array(length);
  let total = 0;
  for (let i = 0; i < length; i++) {
    probs[i] = Math.exp((logits[from + i] - max) / params.temperature);
    total += probs[i];
  }
  const order = Array.from(probs.keys()).sort((x, y) => probs[y] - probs[x]);
  let kept = 0;
  let mass = 0;
  while (kept < order.length && mass < params.topP * total) mass += probs[order[kept++]];
  let r = random() * mass;
  for (let k = 0; k < kept; k++) {
    r -= probs[order[k]];
    if (r <= 0) return order[k];
  }
  return order[kept - 1];
}
