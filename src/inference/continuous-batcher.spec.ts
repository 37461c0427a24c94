import { getEventListeners } from 'node:events';
import * as ort from 'onnxruntime-node';
import { ContinuousBatcher, withheld } from 'src/inference/continuous-batcher';
import { InferenceErrorCode } from 'src/inference/inference.errors';
import { ForwardInput, ForwardOutput, LlamaSession } from 'src/inference/llama-session';
import { TextTokenizer } from 'src/inference/text-tokenizer';

describe('withheld (what a stream may send before generation ends)', () => {
  it('sends everything when no stop string could be starting', () => {
    expect(withheld('Tamsin Orrel', ['\n'])).toBe('Tamsin Orrel');
    expect(withheld('Tamsin Orrel', [])).toBe('Tamsin Orrel');
  });

  it('holds back an ending that may grow into a stop string', () => {
    expect(withheld('Paris. Ques', ['Question:'])).toBe('Paris. ');
    expect(withheld('Paris. Q', ['Question:', 'END'])).toBe('Paris. ');
    expect(withheld('Paris. E', ['Question:', 'END'])).toBe('Paris. ');
  });

  it('holds back an incomplete multi-byte character', () => {
    expect(withheld('caf\uFFFD', [])).toBe('caf');
  });
});

/** A stand-in model: every step's logits favour token `next`, and the new keys and values have the real shapes. */
function fakeSession(next = 7): LlamaSession {
  const spec = { vocabSize: 16, eosIds: [2], padId: 3, maxPositions: 512, layers: 1, kvHeads: 1, headDim: 1 };
  return {
    spec,
    loraFeeds: () => ({}),
    forward: (input: ForwardInput): Promise<ForwardOutput> => {
      const batch = input.inputIds.length;
      const tokens = input.inputIds[0].length;
      const logits = new Float32Array(batch * tokens * spec.vocabSize);
      for (let i = next; i < logits.length; i += spec.vocabSize) logits[i] = 1;
      const kv = () => new ort.Tensor('float32', new Float32Array(batch * tokens), [batch, 1, tokens, 1]);
      return Promise.resolve({ logits, fresh: [kv(), kv()] });
    },
  } as unknown as LlamaSession;
}

const fakeTokenizer = {
  encode: (text: string) => Promise.resolve(Array.from(text, (c) => c.charCodeAt(0) % 16)),
  decode: (ids: number[]) => Promise.resolve(ids.map((id) => `<${id}>`).join('')),
} as unknown as TextTokenizer;

describe('ContinuousBatcher and abort signals', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  const flushWarnings = () => new Promise((resolve) => setImmediate(resolve));

  const rows = async (b: ContinuousBatcher, n: number, maxTokens: number) =>
    Promise.all(
      Array.from({ length: n }, () =>
        b.prepare({ prompt: 'abc', adapters: [], params: { maxTokens, temperature: 0, topP: 1, stop: [] } }),
      ),
    );

  it('adds one listener to a signal shared by 24 rows, and removes it when they are done', async () => {
    const b = new ContinuousBatcher(fakeSession(), fakeTokenizer, { maxBatch: 8 });
    const signal = new AbortController().signal;
    const results = b.enqueue((await rows(b, 24, 3)).map((r) => ({ ...r, signal })));
    expect(getEventListeners(signal, 'abort')).toHaveLength(1);
    const done = await Promise.all(results);
    expect(done.map((r) => r.tokenIds)).toEqual(Array(24).fill([7, 7, 7]));
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    await flushWarnings();
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('cancels every row of the signal, waiting or generating, and lets go of the signal', async () => {
    const b = new ContinuousBatcher(fakeSession(), fakeTokenizer, { maxBatch: 4 });
    const controller = new AbortController();
    const results = b.enqueue((await rows(b, 16, 400)).map((r) => ({ ...r, signal: controller.signal })));
    const [other] = b.enqueue(await rows(b, 1, 5));
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const settled = await Promise.allSettled(results);
    expect(settled.map((s) => s.status)).toEqual(Array(16).fill('rejected'));
    expect(settled[15]).toMatchObject({ reason: { code: InferenceErrorCode.GENERATION_CANCELLED } });
    expect((await other).tokenIds).toEqual([7, 7, 7, 7, 7]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('refuses rows whose signal has already aborted, without queueing them', async () => {
    const b = new ContinuousBatcher(fakeSession(), fakeTokenizer, { maxBatch: 4 });
    const controller = new AbortController();
    controller.abort();
    const [result] = b.enqueue((await rows(b, 1, 5)).map((r) => ({ ...r, signal: controller.signal })));
    await expect(result).rejects.toMatchObject({ code: InferenceErrorCode.GENERATION_CANCELLED });
    expect(b.queued + b.batchRows).toBe(0);
  });
});
