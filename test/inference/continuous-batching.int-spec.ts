import { join } from 'node:path';
import { ContinuousBatcher } from 'src/inference/continuous-batcher';
import {
  generateBatch,
  GenerationParams,
  GenerationRequest,
  GenerationResult,
} from 'src/inference/generator';
import { InferenceErrorCode } from 'src/inference/inference.errors';
import { LlamaSession } from 'src/inference/llama-session';
import { loadLoraAdapter, LoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { scoreBatch } from 'src/inference/scoring';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { MODEL_DIR, PARITY_DIR } from 'test/support/model-files';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('continuous batching on the real model', () => {
  const spec = ModelSpec.load(MODEL_DIR);
  let session: LlamaSession;
  let tokenizer: TextTokenizer;
  let a0: LoraAdapter;
  let a1: LoraAdapter;

  beforeAll(async () => {
    session = await LlamaSession.create(spec, 1);
    tokenizer = TextTokenizer.fromFile(spec.tokenizerPath);
    a0 = await loadLoraAdapter(join(PARITY_DIR, 'a0'), spec, 1 << 24);
    a1 = await loadLoraAdapter(join(PARITY_DIR, 'a1'), spec, 1 << 24);
  });
  afterAll(() => session.release());

  const greedy = (maxTokens: number, stop: string[] = []): GenerationParams => ({
    maxTokens,
    temperature: 0,
    topP: 1,
    stop,
  });
  const batcher = (maxBatch: number) => new ContinuousBatcher(session, tokenizer, { maxBatch });
  const submit = async (b: ContinuousBatcher, request: GenerationRequest) => {
    const [result] = b.enqueue([await b.prepare(request)]);
    return result;
  };

  it('gives token-identical greedy output to one-at-a-time generation, with staggered arrivals, mixed stacks and lengths', async () => {
    const prompts = [
      "Let's answer a question directly and concisely.\nQuestion: Where was Tamsin Orrel born?\nAnswer:",
      'Passage:\nKelan',
      "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.\n\nPassage:\nLorvik Harbour\nLorvik Harbour was built in 1921 by the engineer Tamsin Orrel.\n\nImplications:\n",
      'The',
      "Let's repeat the following text exactly.\nText:\nQuay is a fishing town.\n\nRepeat:\n",
    ];
    const stacks = [[], [a0], [a0, a1], [a1]];
    const requests: GenerationRequest[] = Array.from({ length: 10 }, (_, i) => ({
      prompt: prompts[i % prompts.length],
      adapters: stacks[i % stacks.length],
      params: greedy(4 + ((i * 7) % 23)),
    }));
    const alone: GenerationResult[] = [];
    for (const r of requests) alone.push((await generateBatch(session, tokenizer, [r]))[0]);

    const b = batcher(4); // fewer places than requests: some wait in the queue and join later
    const together: Promise<GenerationResult>[] = [];
    for (const [i, r] of requests.entries()) {
      together.push(submit(b, r));
      if (i % 3 === 2) await sleep(15); // arrive while others are mid-decode
    }
    const results = await Promise.all(together);
    for (const [i, r] of results.entries()) {
      expect({ i, tokens: r.tokenIds, finish: r.finishReason }).toEqual({
        i,
        tokens: alone[i].tokenIds,
        finish: alone[i].finishReason,
      });
    }
    expect(results.some((r) => r.tokenIds.length > 10)).toBe(true);
  });

  it('stays token-identical under churn: rows leave mid-batch, joiners take their slots, cancelled rows leave holes', async () => {
    const prompts = [
      'The',
      'Passage:\nKelan',
      "Let's repeat the following text exactly.\nText:\nQuay is a fishing town.\n\nRepeat:\n",
    ];
    const requests: GenerationRequest[] = Array.from({ length: 24 }, (_, i) => ({
      prompt: prompts[i % prompts.length],
      adapters: i % 8 === 7 ? [a1] : [], // mostly the base model (shared zero LoRA inputs), now and then not
      params: greedy(3 + ((i * 11) % 29)),
    }));
    const alone: GenerationResult[] = [];
    for (const r of requests) alone.push((await generateBatch(session, tokenizer, [r]))[0]);

    const steps: { kind: string; rows: number }[] = [];
    const b = new ContinuousBatcher(session, tokenizer, { maxBatch: 8, onStep: (s) => steps.push(s) });
    const together: Promise<GenerationResult | null>[] = [];
    const controllers: AbortController[] = [];
    for (const [i, r] of requests.entries()) {
      const controller = new AbortController();
      controllers.push(controller);
      const [result] = b.enqueue([{ ...(await b.prepare(r)), signal: controller.signal }]);
      together.push(result.catch(() => null)); // a cancelled row rejects; it is not compared
      if (i % 4 === 3) await sleep(10);
      if (i % 5 === 4) controllers[i - 2].abort(); // a running row goes away
    }
    const results = await Promise.all(together);
    for (const [i, r] of results.entries()) {
      if (controllers[i].signal.aborted) continue;
      expect({ i, tokens: r?.tokenIds, finish: r?.finishReason }).toEqual({
        i,
        tokens: alone[i].tokenIds,
        finish: alone[i].finishReason,
      });
    }
    expect(results.filter((r) => r === null).length).toBeGreaterThan(0);
    expect(steps.some((s) => s.kind === 'decode' && s.rows > 4)).toBe(true);
  });

  it('stays token-identical when rows outgrow the cache capacity the batch was built with', async () => {
    const requests: GenerationRequest[] = [
      { prompt: 'The', adapters: [], params: greedy(90) },
      { prompt: 'Passage:\nKelan', adapters: [a0], params: greedy(70) },
      { prompt: 'The', adapters: [a1], params: greedy(50) },
    ];
    const alone: GenerationResult[] = [];
    for (const r of requests) alone.push((await generateBatch(session, tokenizer, [r]))[0]);
    const b = batcher(4);
    const together: Promise<GenerationResult>[] = [];
    for (const r of requests) {
      together.push(submit(b, r));
      await sleep(20); // joins a running batch
    }
    const results = await Promise.all(together);
    expect(results.map((r) => r.tokenIds)).toEqual(alone.map((r) => r.tokenIds));
    // Longer than the 32 spare columns a batch cache is built with: it grew at least once.
    expect(Math.max(...results.map((r) => r.tokenIds.length))).toBeGreaterThan(40);
  });

  it('streams text in order and in full, holding back what may become a stop string', async () => {
    const b = batcher(4);
    const request: GenerationRequest = {
      prompt: "Let's answer a question directly and concisely.\nQuestion: Who built Lorvik Harbour?\nAnswer:",
      adapters: [],
      params: greedy(24, ['\n']),
    };
    const pieces: string[] = [];
    const [result] = b.enqueue([{ ...(await b.prepare(request)), onText: (d) => pieces.push(d) }]);
    const done = await result;
    expect(pieces.join('')).toBe(done.text);
    expect(done.text).not.toContain('\n');
  });

  it('queues rows beyond the batch size and serves them as places free up', async () => {
    const b = batcher(2);
    const request: GenerationRequest = { prompt: 'The', adapters: [], params: greedy(20) };
    const rows = await Promise.all([1, 2, 3, 4, 5].map(() => b.prepare(request)));
    const results = b.enqueue(rows);
    expect(b.queued + b.batchRows).toBe(5);
    expect(b.batchRows).toBeLessThanOrEqual(2);
    const all = await Promise.all(results);
    expect(all.map((r) => r.tokenIds)).toEqual(Array(5).fill(all[0].tokenIds));
  });

  it('drops a cancelled row and keeps serving the others', async () => {
    const b = batcher(4);
    const controller = new AbortController();
    const request: GenerationRequest = { prompt: 'The', adapters: [], params: greedy(60) };
    const [cancelled] = b.enqueue([{ ...(await b.prepare(request)), signal: controller.signal }]);
    const [kept] = b.enqueue([await b.prepare({ ...request, params: greedy(30) })]);
    await sleep(20);
    controller.abort();
    await expect(cancelled).rejects.toMatchObject({ code: InferenceErrorCode.GENERATION_CANCELLED });
    const [alone] = await generateBatch(session, tokenizer, [{ ...request, params: greedy(30) }]);
    expect((await kept).tokenIds).toEqual(alone.tokenIds);
    await sleep(0); // the batch drops finished rows right after answering them
    expect(b.batchRows).toBe(0);
  });

  it('scores between decode steps, with the same result as on an idle session', async () => {
    const b = batcher(4);
    const ids = await tokenizer.encode('Lorvik Harbour was built in 1921.');
    const [idle] = await scoreBatch(session, [{ tokenIds: ids, adapters: [a0] }]);
    const generating = b.enqueue([await b.prepare({ prompt: 'The', adapters: [a1], params: greedy(40) })]);
    await sleep(10);
    const [busy] = await b.exclusive(() => scoreBatch(session, [{ tokenIds: ids, adapters: [a0] }]));
    expect(busy.tokenLogProbs).toEqual(idle.tokenLogProbs);
    await Promise.all(generating);
  });
});
