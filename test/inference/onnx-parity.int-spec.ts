import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateBatch, GenerationParams } from 'src/inference/generator';
import { LlamaSession } from 'src/inference/llama-session';
import { loadLoraAdapter, LoraAdapter } from 'src/inference/lora-adapter';
import { ModelSpec } from 'src/inference/model-spec';
import { klDivergence, logSoftmax, scoreBatch } from 'src/inference/scoring';
import { TextTokenizer } from 'src/inference/text-tokenizer';
import { PARITY_DIR, MODEL_DIR } from 'test/support/model-files';

interface Expected {
  text: string;
  inputIds: number[];
  none: number[];
  a0: number[];
  'a0+a1': number[];
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
};

describe('ONNX Runtime against PyTorch (the exported default model)', () => {
  const spec = ModelSpec.load(MODEL_DIR);
  const expected = JSON.parse(readFileSync(join(PARITY_DIR, 'expected.json'), 'utf8')) as Expected;
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

  const lastLogits = async (ids: number[], stack: LoraAdapter[]): Promise<Float32Array> => {
    const { logits } = await session.forward({
      inputIds: [ids],
      attentionMask: [ids.map(() => 1)],
      positionIds: [ids.map((_, i) => i)],
      past: null,
      lora: session.loraFeeds([stack]),
    });
    return logits.subarray((ids.length - 1) * spec.vocabSize, ids.length * spec.vocabSize);
  };

  it('tokenizes the prompt as the Python side did', async () => {
    expect(await tokenizer.encode(expected.text)).toEqual(expected.inputIds);
  });

  it.each([
    ['no adapter', 'none', () => []],
    ['one adapter', 'a0', () => [a0]],
    ['a stack of two adapters', 'a0+a1', () => [a0, a1]],
  ] as const)('gives the same logits with %s (max abs diff < 1e-3)', async (_, key, stack) => {
    const logits = await lastLogits(expected.inputIds, stack());
    expect(maxAbsDiff(logits, expected[key])).toBeLessThan(1e-3);
    if (key !== 'none') expect(maxAbsDiff(logits, expected.none)).toBeGreaterThan(1e-2); // the adapter acts
  });

  it('serves rows with different stacks and prompt lengths in one batch exactly as one at a time', async () => {
    const params: GenerationParams = { maxTokens: 6, temperature: 0, topP: 1, stop: [] };
    const requests = [
      { prompt: expected.text, adapters: [a0, a1], params },
      { prompt: 'Passage:\nKelan', adapters: [], params },
      { prompt: `${expected.text} is`, adapters: [a1], params },
    ];
    const together = await generateBatch(session, tokenizer, requests);
    for (const [i, request] of requests.entries()) {
      const [alone] = await generateBatch(session, tokenizer, [request]);
      expect(together[i].tokenIds).toEqual(alone.tokenIds);
    }
  });

  it('scores sequences: next-token distributions as PyTorch, the same in a right-padded batch as alone', async () => {
    const short = expected.inputIds.slice(0, 5);
    const [full, part] = await scoreBatch(session, [
      { tokenIds: expected.inputIds, adapters: [a0] },
      { tokenIds: short, adapters: [] },
    ]);
    expect(maxAbsDiff(full.nextLogProbs, logSoftmax(Float32Array.from(expected.a0)))).toBeLessThan(1e-3);
    const [alone] = await scoreBatch(session, [{ tokenIds: short, adapters: [] }]);
    expect(maxAbsDiff(part.tokenLogProbs, alone.tokenLogProbs)).toBeLessThan(1e-4);
    expect(part.tokenLogProbs).toHaveLength(short.length - 1);
    expect(klDivergence(alone.nextLogProbs, alone.nextLogProbs)).toBeCloseTo(0, 6);
    expect(klDivergence(full.nextLogProbs, alone.nextLogProbs)).toBeGreaterThan(0);
  });
});
