import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { z } from 'zod';
import { AuthContext } from 'src/auth/auth-context';
import { GenerationParams } from 'src/inference/generator';
import { CHAT_STOP, renderChat } from 'src/serving/openai/chat-template';
import { finishReasonJson, modelJson, servedByJson, usageJson } from 'src/serving/openai/openai.mappers';
import {
  ChatRequest,
  chatRequestSchema,
  CompletionRequest,
  completionRequestSchema,
  DEFAULT_CHAT_MAX_TOKENS,
  DEFAULT_COMPLETION_MAX_TOKENS,
  DEFAULT_TEMPERATURE,
} from 'src/serving/openai/openai.schemas';
import { abortOnClose, SseStream } from 'src/serving/openai/sse-stream';
import { ServingError, ServingErrorCode } from 'src/serving/serving.errors';
import { ServingOutcome, ServingService, targetOfModel } from 'src/serving/serving.service';

/** Rows one request may generate (prompts x n), as GraphQL `generate` allows samples. */
const MAX_ROWS = 16;

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue.path.join('.');
  throw new ServingError(ServingErrorCode.REQUEST_INVALID, `${param || 'body'}: ${issue.message}`, {
    param: param || null,
    problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
  });
}

function paramsOf(
  r: CompletionRequest | ChatRequest,
  maxTokens: number | null | undefined,
  defaultMaxTokens: number,
  extraStop: string[],
): GenerationParams {
  const stop = r.stop == null ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop;
  return {
    maxTokens: maxTokens ?? defaultMaxTokens,
    temperature: r.temperature ?? DEFAULT_TEMPERATURE,
    topP: r.top_p ?? 1,
    stop: [...stop, ...extraStop],
    seed: r.seed ?? undefined,
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** The OpenAI-compatible API over the serving pipeline: request bodies in, OpenAI's JSON and SSE out. */
@Injectable()
export class OpenAiService {
  constructor(private readonly serving: ServingService) {}

  async models() {
    return { object: 'list', data: (await this.serving.models()).map(modelJson) };
  }

  async completions(auth: AuthContext, body: unknown, res: Response): Promise<void> {
    const request = parse(completionRequestSchema, body);
    const prompts = typeof request.prompt === 'string' ? [request.prompt] : request.prompt;
    const n = request.n ?? 1;
    const rows = this.rows(prompts, n);
    const params = paramsOf(request, request.max_tokens, DEFAULT_COMPLETION_MAX_TOKENS, []);
    const base = {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created: now(),
      model: request.model,
    };
    const signal = abortOnClose(res);
    if (!request.stream) {
      const outcome = await this.serving.generate(auth, {
        target: targetOfModel(request.model),
        prompts: rows,
        params,
        signal,
      });
      res.status(200).json({
        ...base,
        choices: outcome.results.map((r, index) => ({
          index,
          text: r.text,
          logprobs: null,
          finish_reason: finishReasonJson(r.finishReason),
        })),
        usage: usageJson(outcome.results, n),
        served_by: servedByJson(outcome.servedBy),
      });
      return;
    }
    const sse = new SseStream(res);
    const chunk = (index: number, text: string, finish: string | null) => ({
      ...base,
      choices: [{ index, text, logprobs: null, finish_reason: finish }],
    });
    const outcome = await this.serving.generate(auth, {
      target: targetOfModel(request.model),
      prompts: rows,
      params,
      signal,
      onText: (index, delta) => sse.send(chunk(index, delta, null)),
    });
    this.finishStream(
      sse,
      outcome,
      n,
      request.stream_options?.include_usage ?? false,
      (r, index) => ({
        ...chunk(index, '', finishReasonJson(r.finishReason)),
      }),
      base,
    );
  }

  async chat(auth: AuthContext, body: unknown, res: Response): Promise<void> {
    const request = parse(chatRequestSchema, body);
    const n = request.n ?? 1;
    const rows = this.rows([renderChat(request.messages)], n);
    const params = paramsOf(
      request,
      request.max_completion_tokens ?? request.max_tokens,
      DEFAULT_CHAT_MAX_TOKENS,
      CHAT_STOP,
    );
    const base = { id: `chatcmpl-${randomUUID()}`, created: now(), model: request.model };
    const signal = abortOnClose(res);
    if (!request.stream) {
      const outcome = await this.serving.generate(auth, {
        target: targetOfModel(request.model),
        prompts: rows,
        params,
        signal,
      });
      res.status(200).json({
        ...base,
        object: 'chat.completion',
        choices: outcome.results.map((r, index) => ({
          index,
          message: { role: 'assistant', content: r.text.trim() },
          logprobs: null,
          finish_reason: finishReasonJson(r.finishReason),
        })),
        usage: usageJson(outcome.results, n),
        served_by: servedByJson(outcome.servedBy),
      });
      return;
    }
    const sse = new SseStream(res);
    const chunkBase = { ...base, object: 'chat.completion.chunk' };
    const started = new Set<number>();
    // The model writes " answer" after "Answer:"; the leading space of the first piece is the template's.
    const delta = (index: number, text: string) => {
      if (started.has(index)) return { content: text };
      started.add(index);
      return { role: 'assistant', content: text.trimStart() };
    };
    const outcome = await this.serving.generate(auth, {
      target: targetOfModel(request.model),
      prompts: rows,
      params,
      signal,
      onText: (index, text) =>
        sse.send({
          ...chunkBase,
          choices: [{ index, delta: delta(index, text), logprobs: null, finish_reason: null }],
        }),
    });
    this.finishStream(
      sse,
      outcome,
      n,
      request.stream_options?.include_usage ?? false,
      (r, index) => ({
        ...chunkBase,
        choices: [
          {
            index,
            delta: started.has(index) ? {} : delta(index, ''),
            logprobs: null,
            finish_reason: finishReasonJson(r.finishReason),
          },
        ],
      }),
      chunkBase,
    );
  }

  private rows(prompts: string[], n: number): string[] {
    if (prompts.length * n > MAX_ROWS) {
      throw new ServingError(
        ServingErrorCode.REQUEST_INVALID,
        `${prompts.length} prompts x n=${n} asks for more than ${MAX_ROWS} completions in one request`,
        { param: 'n' },
      );
    }
    return prompts.flatMap((p) => Array<string>(n).fill(p));
  }

  /** One final chunk per choice (finish reason; the last one names the adapter stack), usage, then [DONE]. */
  private finishStream(
    sse: SseStream,
    outcome: ServingOutcome,
    n: number,
    includeUsage: boolean,
    finalChunk: (r: ServingOutcome['results'][number], index: number) => Record<string, unknown>,
    base: Record<string, unknown>,
  ): void {
    const servedBy = servedByJson(outcome.servedBy);
    outcome.results.forEach((r, index) => sse.send({ ...finalChunk(r, index), served_by: servedBy }));
    if (includeUsage)
      sse.send({ ...base, choices: [], usage: usageJson(outcome.results, n), served_by: servedBy });
    sse.done();
  }
}
