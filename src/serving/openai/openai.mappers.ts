import { FinishReason } from 'src/inference/generator';
import { ServedResult } from 'src/inference/model.service';
import { ServedBy, ServedModel } from 'src/serving/serving.service';

/** The extra field on every response (and on the final stream chunk): which adapter stack answered. */
export interface ServedByJson {
  channel: string | null;
  head_adapter_id: string | null;
  base_model_digest: string;
  adapter_digests: string[];
  stack_adapter_digests: string[];
}

export interface UsageJson {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const servedByJson = (s: ServedBy): ServedByJson => ({
  channel: s.channel,
  head_adapter_id: s.headAdapterId,
  base_model_digest: s.baseModelDigest,
  adapter_digests: s.adapterDigests,
  stack_adapter_digests: s.stackAdapterDigests,
});

/** OpenAI knows stop and length; the model's end-of-sequence token is a stop. */
export const finishReasonJson = (r: FinishReason): 'stop' | 'length' => (r === 'length' ? 'length' : 'stop');

/** Prompt tokens count once per prompt (n samples share it), as OpenAI counts them. */
export function usageJson(results: ServedResult[], n: number): UsageJson {
  const prompt = results.filter((_, i) => i % n === 0).reduce((s, r) => s + r.promptTokens, 0);
  const completion = results.reduce((s, r) => s + r.tokenIds.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

export const modelJson = (m: ServedModel) => ({
  id: m.id,
  object: 'model' as const,
  created: Math.floor(m.createdAt.getTime() / 1000),
  owned_by: 'sealgate',
  head_adapter_id: m.headAdapterId,
  base_model: m.baseModel,
});
