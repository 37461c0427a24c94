import { z } from 'zod';

/**
 * Request bodies of the OpenAI-compatible API, as OpenAI documents them. Fields sealgate does not implement
 * (logprobs, penalties, tools, ...) are dropped rather than refused, as other compatible servers do, so
 * existing clients work unchanged; `n`, `stop`, `seed` and streaming are honoured.
 */
const common = {
  model: z.string().min(1).max(200),
  max_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stop: z.union([z.string().min(1).max(64), z.array(z.string().min(1).max(64)).max(4)]).nullish(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31 - 1)
    .nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  user: z.string().max(256).nullish(),
};

export const completionRequestSchema = z.object({
  ...common,
  prompt: z.union([z.string().min(1).max(20_000), z.array(z.string().min(1).max(20_000)).min(1).max(16)]),
});
export type CompletionRequest = z.infer<typeof completionRequestSchema>;

export const chatMessageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([
    z.string().max(20_000),
    z.array(z.object({ type: z.literal('text'), text: z.string().max(20_000) })).max(64),
  ]),
  name: z.string().max(64).nullish(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const chatRequestSchema = z.object({
  ...common,
  messages: z.array(chatMessageSchema).min(1).max(64),
  max_completion_tokens: z.number().int().min(1).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** OpenAI's defaults where the request leaves a field out. */
export const DEFAULT_COMPLETION_MAX_TOKENS = 16;
export const DEFAULT_CHAT_MAX_TOKENS = 64;
export const DEFAULT_TEMPERATURE = 1;
