import { join } from 'node:path';
import { EngineOptions, EngineRow, InferenceEngine } from 'src/inference/inference-engine';
import { InferenceThread } from 'src/inference/inference-thread';
import { InferenceError, InferenceErrorCode } from 'src/inference/inference.errors';
import { PARITY_DIR, TEST_ENGINE_OPTIONS } from 'test/support/model-files';

const options: EngineOptions = TEST_ENGINE_OPTIONS;
const greedy = (maxTokens: number) => ({ maxTokens, temperature: 0, topP: 1, stop: [] });

/** The model in a worker thread behaves exactly as on this thread, errors and cancellation included. */
describe('inference worker thread', () => {
  let thread: InferenceThread;
  let inline: InferenceEngine;

  beforeAll(async () => {
    [thread, inline] = await Promise.all([InferenceThread.start(options), InferenceEngine.create(options)]);
  });
  afterAll(async () => {
    await thread.close();
    await inline.close();
  });

  it('generates and scores the same as an engine on this thread, with adapter digests', async () => {
    const rows: EngineRow[] = [
      { prompt: 'Passage:\nKelan', params: greedy(12), adapterFolders: [join(PARITY_DIR, 'a0')] },
      { prompt: 'The', params: greedy(8), adapterFolders: [] },
      {
        prompt: 'Question:',
        params: greedy(10),
        adapterFolders: [join(PARITY_DIR, 'a0'), join(PARITY_DIR, 'a1')],
      },
    ];
    const [there, here] = await Promise.all([thread.generate(rows), inline.generate(rows)]);
    expect(there).toEqual(here);
    expect(there[2].adapterDigests).toHaveLength(2);
    expect(there.every((r) => r.tokenIds.length > 0)).toBe(true);
    const [scoredThere, scoredHere] = await Promise.all([
      thread.score(['Lorvik Harbour was built in 1921.'], [join(PARITY_DIR, 'a1')]),
      inline.score(['Lorvik Harbour was built in 1921.'], [join(PARITY_DIR, 'a1')]),
    ]);
    expect(scoredThere[0].tokenLogProbs).toEqual(scoredHere[0].tokenLogProbs);
    expect(scoredThere[0].nextLogProbs).toBeInstanceOf(Float32Array);
  });

  it('streams text across the thread boundary', async () => {
    const pieces: string[] = [];
    const [result] = await thread.generate(
      [{ prompt: 'Passage:\nKelan', params: greedy(16), adapterFolders: [] }],
      (_, delta) => pieces.push(delta),
    );
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(result.text);
  });

  it('reports the load through shared memory, and every step of a request right after its result', async () => {
    const steps: { kind: string; rows: number }[] = [];
    const reporting = await InferenceThread.start(options, (step) => steps.push(step));
    try {
      const loads: number[] = [];
      const [result] = await reporting.generate(
        [{ prompt: 'Passage:\nKelan', params: greedy(48), adapterFolders: [] }],
        () => loads.push(reporting.load().batchRows),
      );
      await new Promise((r) => setTimeout(r, 20)); // well before the report timer (STEP_REPORT_MS)
      // One prefill and a decode per token after the first.
      expect(steps.filter((s) => s.kind === 'prefill')).toMatchObject([{ rows: 1 }]);
      expect(steps.filter((s) => s.kind === 'decode')).toHaveLength(result.tokenIds.length - 1);
      expect(loads.length).toBeGreaterThan(1);
      // Read while the row was generating. Deltas can cross the thread boundary after the row has finished in
      // the worker (on a loaded machine), so not every read sees the row; a long answer makes one that does sure.
      expect(loads).toContain(1);
      expect(loads.every((rows) => rows <= 1)).toBe(true);
      expect(reporting.load()).toEqual({ batchRows: 0, queued: 0 });
    } finally {
      await reporting.close();
    }
  });

  it('keeps domain errors (class, code, details) across the boundary', async () => {
    const tooLong = await thread
      .generate([{ prompt: 'word '.repeat(600), params: greedy(8), adapterFolders: [] }])
      .catch((e: unknown) => e);
    expect(tooLong).toBeInstanceOf(InferenceError);
    expect(tooLong).toMatchObject({
      code: InferenceErrorCode.GENERATION_INVALID,
      details: { maxPositions: 512 },
    });
    const badAdapter = await thread
      .generate([{ prompt: 'The', params: greedy(2), adapterFolders: ['/nonexistent/adapter'] }])
      .catch((e: unknown) => e);
    expect(badAdapter).toMatchObject({ code: InferenceErrorCode.ADAPTER_INVALID });
  });

  it('cancels a generation when its signal aborts', async () => {
    const controller = new AbortController();
    const running = thread.generate(
      [{ prompt: 'Passage:\nKelan', params: greedy(200), adapterFolders: [] }],
      () => controller.abort(),
      controller.signal,
    );
    await expect(running).rejects.toMatchObject({ code: InferenceErrorCode.GENERATION_CANCELLED });
  });
});
