import { Role } from 'src/auth/role';
import { codeOf, reasonOf, TestApp } from 'test/support/test-app';

/** A prompt the model answers at length, so a stream stays open a while. */
const LONG =
  "Let's read the following passage and produce a list of implications derived directly or indirectly from the content.\n\nPassage:\nLorvik Harbour\nLorvik Harbour was built in 1921 by the engineer Tamsin Orrel to serve the herring fleet of Quay.\n\nImplications:\n";

interface ErrorJson {
  error: { message: string; code: string; details?: { limit?: string } };
}

interface KeyJson {
  id: string;
  requestsPerMinute: number | null;
  maxTokensPerRequest: number | null;
  maxConcurrentStreams: number | null;
}

const SET_LIMITS = `mutation($id: ID!, $rpm: Int, $tokens: Int, $streams: Int) {
  setApiKeyLimits(apiKeyId: $id, requestsPerMinute: $rpm, maxTokensPerRequest: $tokens, maxConcurrentStreams: $streams) {
    id requestsPerMinute maxTokensPerRequest maxConcurrentStreams
  }
}`;

/**
 * Per-key limit overrides set by an admin over GraphQL, as a product service meets them on the OpenAI endpoint
 * and the GraphQL API. Defaults here: 3 requests of burst at 0.05/s, max_tokens 200, one stream.
 */
describe('per-API-key limit overrides', () => {
  let t: TestApp;

  /** A new service principal's key: its token and id. */
  const serviceKey = async (): Promise<{ token: string; id: string }> => {
    const p = await t.principal(Role.service);
    const keys = await t.gql<{ apiKeys: { id: string }[] }>(
      t.adminToken,
      `{ apiKeys(principalId: "${p.id}") { id } }`,
    );
    return { token: p.token, id: keys.data!.apiKeys[0].id };
  };
  const setLimits = (
    id: string,
    limits: { rpm?: number | null; tokens?: number | null; streams?: number | null },
    token = t.adminToken,
  ) => t.gql<{ setApiKeyLimits: KeyJson }>(token, SET_LIMITS, { id, ...limits });
  const post = (token: string, body: Record<string, unknown>) =>
    fetch(`${t.started.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'staging', temperature: 0, ...body }),
    });

  beforeAll(async () => {
    t = await TestApp.start('postgres', {
      SERVING_MAX_BATCH: '4',
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

  it('lets an admin set, read back and clear a key override, and audits each change', async () => {
    const key = await serviceKey();
    const set = await setLimits(key.id, { rpm: 30, tokens: 16, streams: 3 });
    expect(set.data!.setApiKeyLimits).toEqual({
      id: key.id,
      requestsPerMinute: 30,
      maxTokensPerRequest: 16,
      maxConcurrentStreams: 3,
    });
    const cleared = await setLimits(key.id, { tokens: 16 });
    expect(cleared.data!.setApiKeyLimits).toMatchObject({
      requestsPerMinute: null,
      maxTokensPerRequest: 16,
      maxConcurrentStreams: null,
    });
    const events = await t.gql<{ auditEvents: { action: string; beforeJson: string; afterJson: string }[] }>(
      t.adminToken,
      `{ auditEvents(limit: 500, subjectType: "ApiKey", subjectId: "${key.id}") { action beforeJson afterJson } }`,
    );
    const changes = events.data!.auditEvents.filter((e) => e.action === 'api_key.limits_set');
    expect(changes).toHaveLength(2);
    expect(JSON.parse(changes[0].beforeJson)).toMatchObject({ maxTokensPerRequest: null });
    expect(JSON.parse(changes[0].afterJson)).toMatchObject({
      requestsPerMinute: 30,
      maxTokensPerRequest: 16,
    });
    expect(JSON.parse(changes[1].afterJson)).toMatchObject({
      requestsPerMinute: null,
      maxConcurrentStreams: null,
    });
  });

  it('refuses anyone but an admin, and limits out of range', async () => {
    const key = await serviceKey();
    const own = await setLimits(key.id, { tokens: 10_000 }, key.token);
    expect(codeOf(own)).toBe('FORBIDDEN');
    const engineer = await t.principal(Role.ml_engineer);
    expect(codeOf(await setLimits(key.id, { tokens: 10_000 }, engineer.token))).toBe('FORBIDDEN');
    expect(codeOf(await setLimits(key.id, { rpm: 0 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await setLimits(key.id, { tokens: 40_000 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await setLimits('00000000-0000-4000-8000-000000000000', { tokens: 8 }))).toBe('NOT_FOUND');
  });

  it('applies a key max_tokens override on the OpenAI endpoint and over GraphQL, and only to that key', async () => {
    const key = await serviceKey();
    await setLimits(key.id, { tokens: 8, rpm: 6000 }); // a fast refill: this case is about max_tokens
    const refused = await post(key.token, { prompt: 'The', max_tokens: 9 });
    expect(refused.status).toBe(429);
    const body = (await refused.json()) as ErrorJson;
    expect(body.error).toMatchObject({
      code: 'MAX_TOKENS_EXCEEDED',
      details: { limit: 'apiKey.maxTokensPerRequest' },
    });
    expect(body.error.message).toContain('limit of 8');
    expect((await post(key.token, { prompt: 'The', max_tokens: 8 })).status).toBe(200);
    const gql = await t.gql(
      key.token,
      '{ generate(input: { prompt: "The", maxTokens: 9, channel: "staging" }) { choices { text } } }',
    );
    expect([codeOf(gql), reasonOf(gql)]).toEqual(['TOO_MANY_REQUESTS', 'MAX_TOKENS_EXCEEDED']);

    const other = await serviceKey(); // the default (200) still holds for every other key
    expect((await post(other.token, { prompt: 'The', max_tokens: 9 })).status).toBe(200);

    await setLimits(key.id, { tokens: null, rpm: 6000 }); // max_tokens cleared: back to the default
    expect((await post(key.token, { prompt: 'The', max_tokens: 9 })).status).toBe(200);
  });

  it("limits a key to its own request rate, below the default's burst", async () => {
    const key = await serviceKey();
    await setLimits(key.id, { rpm: 2 }); // 2 a minute: a bucket of 2, not the default 3
    for (let i = 0; i < 2; i++)
      expect((await post(key.token, { prompt: 'The', max_tokens: 1 })).status).toBe(200);
    const limited = await post(key.token, { prompt: 'The', max_tokens: 1 });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(20); // 1 request per 30 s
    expect(((await limited.json()) as ErrorJson).error).toMatchObject({
      code: 'RATE_LIMITED',
      details: { limit: 'apiKey.requestsPerMinute' },
    });
    const gql = await t.gql(
      key.token,
      '{ generate(input: { prompt: "The", maxTokens: 1, channel: "staging" }) { choices { text } } }',
    );
    expect([codeOf(gql), reasonOf(gql)]).toEqual(['TOO_MANY_REQUESTS', 'RATE_LIMITED']);
  });

  it('allows a key more concurrent streams than the default, and no more than its own limit', async () => {
    const key = await serviceKey();
    await setLimits(key.id, { streams: 2 });
    const readers = [];
    for (let i = 0; i < 2; i++) {
      const res = await post(key.token, { prompt: LONG, max_tokens: 200, stream: true });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // streaming
      readers.push(reader);
    }
    const third = await post(key.token, { prompt: 'The', max_tokens: 4, stream: true });
    expect(third.status).toBe(429);
    expect(((await third.json()) as ErrorJson).error).toMatchObject({
      code: 'TOO_MANY_STREAMS',
      details: { limit: 'apiKey.maxConcurrentStreams' },
    });
    for (const reader of readers) await reader.cancel();
  });
});
