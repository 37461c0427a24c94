import { Redis } from 'ioredis';
import { Role } from 'src/auth/role';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { STEP_REPORT_MS } from 'src/inference/inference-protocol';
import { ModelService } from 'src/inference/model.service';
import { MetricsService } from 'src/observability/metrics.service';
import { KEY_LIMITS_REDIS } from 'src/auth/key-limits.service';
import { codeOf, reasonOf, TestApp } from 'test/support/test-app';

/** A prompt the model answers at length (a list of implications), so a generation stays in flight a while. */
const LONG =
  "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.\n\nPassage:\nLorvik Harbour\nLorvik Harbour was built in 1921 by the engineer Tamsin Orrel to serve the herring fleet of Quay.\n\nImplications:\n";

interface ErrorJson {
  error: { message: string; type: string; code: string; details?: { limit?: string } };
}

/** Per-key limits and back-pressure, over real HTTP, Redis and the model; each case uses keys of its own. */
describe('serving limits and back-pressure', () => {
  let t: TestApp;
  const key = async () => (await t.principal(Role.service)).token;
  const post = (token: string, body: Record<string, unknown>) =>
    fetch(`${t.started.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'staging', temperature: 0, ...body }),
    });
  const waitFor = async (condition: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(condition()).toBe(true);
  };

  // Steps reach the metrics in batches (STEP_REPORT_MS), after the answers of the requests they served.
  const stepsReported = () => new Promise((r) => setTimeout(r, 2 * STEP_REPORT_MS));
  const decodeSteps = async () =>
    (await t.get(MetricsService).servingSteps.get()).values.find(
      (v) => v.metricName?.endsWith('_count') && v.labels.kind === 'decode',
    )?.value ?? 0;

  beforeAll(async () => {
    t = await TestApp.start('postgres', {
      SERVING_MAX_BATCH: '1',
      SERVING_MAX_QUEUE: '1',
      KEY_RATE_BURST: '3',
      KEY_RATE_PER_SECOND: '0.05',
      KEY_MAX_TOKENS_PER_REQUEST: '200',
      KEY_MAX_CONCURRENT_STREAMS: '1',
    });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
  });
  afterAll(() => t.stop());

  it('refuses more tokens than the per-request limit, naming the limit', async () => {
    const res = await post(await key(), { prompt: 'The', max_tokens: 201 });
    expect(res.status).toBe(429);
    const body = (await res.json()) as ErrorJson;
    expect(body.error).toMatchObject({
      type: 'rate_limit_error',
      code: 'MAX_TOKENS_EXCEEDED',
      details: { limit: 'KEY_MAX_TOKENS_PER_REQUEST' },
    });
    expect(body.error.message).toContain('200');
  });

  it('limits each key to its request rate (token bucket) with Retry-After, without touching other keys', async () => {
    const token = await key();
    for (let i = 0; i < 3; i++)
      expect((await post(token, { prompt: 'The', max_tokens: 1 })).status).toBe(200);
    const limited = await post(token, { prompt: 'The', max_tokens: 1 });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as ErrorJson).error).toMatchObject({
      code: 'RATE_LIMITED',
      details: { limit: 'KEY_RATE_PER_SECOND' },
    });
    const gql = await t.gql(
      token,
      '{ generate(input: { prompt: "The", maxTokens: 1, channel: "staging" }) { choices { text } } }',
    );
    expect([codeOf(gql), reasonOf(gql)]).toEqual(['TOO_MANY_REQUESTS', 'RATE_LIMITED']); // one bucket per key
    expect((await post(await key(), { prompt: 'The', max_tokens: 1 })).status).toBe(200);
  });

  it('starts a whole answer beside its rate check when the bucket had room, and stops it when another replica emptied the bucket', async () => {
    const model = t.get(ModelService);
    const p = await t.principal(Role.service);
    const keys = await t.gql<{ apiKeys: { id: string }[] }>(
      t.adminToken,
      `{ apiKeys(principalId: "${p.id}") { id } }`,
    );
    const bucket = `${t.get<AppConfig>(APP_CONFIG as never).QUEUE_PREFIX}:limits:rate:${keys.data!.apiKeys[0].id}`;
    // The first request of a key waits for its check: this replica has not read the bucket yet.
    const served = jest.spyOn(model, 'serve');
    try {
      expect((await post(p.token, { prompt: 'The', max_tokens: 1 })).status).toBe(200);
      expect(served).toHaveBeenCalledTimes(1);
      // Two of three tokens left, as this replica read it; another replica now takes them.
      await t.get<Redis>(KEY_LIMITS_REDIS as never).hset(bucket, 'tokens', '0');
      await stepsReported();
      const before = await decodeSteps();
      const refused = await post(p.token, { prompt: LONG, max_tokens: 200 });
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as ErrorJson).error.code).toBe('RATE_LIMITED');
      expect(served).toHaveBeenCalledTimes(2); // it had started
      await waitFor(() => model.servingLoad().inFlight === 0);
      await stepsReported();
      expect((await decodeSteps()) - before).toBeLessThan(20); // and was stopped (LONG runs for about 50)
      // Now read empty here: the next request waits for its check, and starts nothing.
      expect((await post(p.token, { prompt: LONG, max_tokens: 200 })).status).toBe(429);
      expect(served).toHaveBeenCalledTimes(2);
    } finally {
      served.mockRestore();
    }
  });

  it('limits concurrent streams per key, and frees the place when a stream ends', async () => {
    const token = await key();
    const first = await post(token, { prompt: LONG, max_tokens: 200, stream: true });
    expect(first.status).toBe(200);
    const reader = first.body!.getReader();
    await reader.read(); // the stream is running
    const second = await post(token, { prompt: 'The', max_tokens: 4, stream: true });
    expect(second.status).toBe(429);
    expect(((await second.json()) as ErrorJson).error).toMatchObject({
      code: 'TOO_MANY_STREAMS',
      details: { limit: 'KEY_MAX_CONCURRENT_STREAMS' },
    });
    let text = '';
    for (let r = await reader.read(); !r.done; r = await reader.read())
      text += new TextDecoder().decode(r.value);
    expect(text).toContain('data: [DONE]');
    const third = await post(token, { prompt: 'The', max_tokens: 4, stream: true });
    expect(third.status).toBe(200);
    expect(await third.text()).toContain('data: [DONE]');
  });

  it('drops the rows of a client that goes away mid-stream', async () => {
    const model = t.get(ModelService);
    const whole = await post(await key(), { prompt: LONG, max_tokens: 200 });
    const full = ((await whole.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens;
    await stepsReported();
    const before = await decodeSteps();
    const controller = new AbortController();
    const res = await fetch(`${t.started.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await key()}` },
      body: JSON.stringify({ model: 'staging', prompt: LONG, max_tokens: 200, temperature: 0, stream: true }),
      signal: controller.signal,
    });
    await res.body!.getReader().read(); // generating
    expect(model.servingLoad().batchRows).toBe(1);
    controller.abort();
    await waitFor(() => model.servingLoad().batchRows === 0);
    await stepsReported();
    expect(full).toBeGreaterThan(20);
    expect((await decodeSteps()) - before).toBeLessThan(full / 2); // stopped, not run to the end
    expect((await post(await key(), { prompt: 'The', max_tokens: 1 })).status).toBe(200);
  });

  it('refuses at once with 429 OVERLOADED (REST) and TOO_MANY_REQUESTS (GraphQL) when batch and queue are full', async () => {
    const model = t.get(ModelService);
    const [a, b, c, d] = await Promise.all([key(), key(), key(), key()]);
    // Internal work (the gates) is never refused: it waits for a place, and it counts against the capacity
    // (batch 1 + queue 1). 24 rows, one at a time, keep the model full for a second or more, where a
    // product request alone would finish before the refusals below had been sent.
    const rows = 24;
    const internal = model.generate(
      Array.from({ length: rows }, () => ({
        prompt: LONG,
        adapterFolders: [],
        params: { maxTokens: 200, temperature: 0, topP: 1, stop: [] },
      })),
    );
    expect(model.servingLoad().inFlight).toBe(rows);

    const started = performance.now();
    const [refused, gql] = await Promise.all([
      post(c, { prompt: 'The', max_tokens: 1 }),
      t.gql(
        d,
        '{ generate(input: { prompt: "The", maxTokens: 1, channel: "staging" }) { choices { text } } }',
      ),
    ]);
    expect(performance.now() - started).toBeLessThan(1000); // at once, not after waiting
    expect(model.servingLoad().inFlight).toBe(rows); // still full: the refusals did not wait for room
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as ErrorJson).error).toMatchObject({
      type: 'rate_limit_error',
      code: 'OVERLOADED',
    });
    expect([codeOf(gql), reasonOf(gql)]).toEqual(['TOO_MANY_REQUESTS', 'OVERLOADED']);

    const results = await internal;
    expect(results.every((r) => r.tokenIds.length > 0)).toBe(true);
    // With room again, one request runs and one waits in the queue; both are answered.
    const [running, queued] = await Promise.all([
      post(a, { prompt: LONG, max_tokens: 200 }),
      post(b, { prompt: LONG, max_tokens: 200 }),
    ]);
    expect([running.status, queued.status]).toEqual([200, 200]);
  });
});
