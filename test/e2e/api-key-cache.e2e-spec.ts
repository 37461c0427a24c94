import { PrincipalsRepository } from 'src/auth/principals.repository';
import { Role } from 'src/auth/role';
import { startApp, StartedApp } from 'src/app/bootstrap';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { ModelService } from 'src/inference/model.service';
import { TestApp } from 'test/support/test-app';

/** Long enough that only the change message, never the lapse, can explain a change seen on the other process. */
const TTL_MS = 60_000;

interface ErrorJson {
  error: { code: string };
}

/**
 * API keys are cached between requests (no database lookup per request), and a change to a key or its principal
 * made through one api process holds on every other at once: two processes on one database and one Redis.
 */
describe('API key cache across api processes', () => {
  let first: TestApp;
  let second: StartedApp;

  const completion = (app: StartedApp, token: string, maxTokens = 4) =>
    fetch(`${app.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'staging', prompt: 'Passage:\n', max_tokens: maxTokens, temperature: 0 }),
    });

  /** The key of a new service principal, used once on each process so that both have it cached. */
  const cachedKey = async (): Promise<{ token: string; id: string; principalId: string }> => {
    const p = await first.principal(Role.service);
    const keys = await first.gql<{ apiKeys: { id: string }[] }>(
      first.adminToken,
      `{ apiKeys(principalId: "${p.id}") { id } }`,
    );
    for (const app of [first.started, second]) expect((await completion(app, p.token)).status).toBe(200);
    return { token: p.token, id: keys.data!.apiKeys[0].id, principalId: p.id };
  };

  /** Polls the second process until `check` holds, for at most 5 s (a twelfth of the cache's lifetime). */
  const onSecondWithin5s = async (check: () => Promise<boolean>): Promise<boolean> => {
    for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
      if (await check()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return false;
  };

  beforeAll(async () => {
    first = await TestApp.start('postgres', { AUTH_CACHE_TTL_MS: String(TTL_MS), SERVING_MAX_BATCH: '4' });
    const config = first.get<AppConfig>(APP_CONFIG as never);
    second = await startApp('api', config);
    await second.app.get(ModelService).whenSettled();
    await first.gql(
      first.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  it('looks a key up once, then serves it from the cache', async () => {
    const p = await first.principal(Role.service);
    const lookups = jest.spyOn(second.app.get(PrincipalsRepository), 'findKeyByPrefix');
    try {
      for (let i = 0; i < 3; i++) expect((await completion(second, p.token)).status).toBe(200);
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      lookups.mockRestore();
    }
  });

  it('refuses a key on the other process as soon as it is revoked', async () => {
    const key = await cachedKey();
    const revoked = await first.gql(
      first.adminToken,
      `mutation { revokeApiKey(id: "${key.id}") { revokedAt } }`,
    );
    expect(revoked.errors).toBeUndefined();
    // Here at once: the revoking process dropped its entries before answering.
    expect((await completion(first.started, key.token)).status).toBe(401);
    expect(
      await onSecondWithin5s(async () => {
        const res = await completion(second, key.token);
        return res.status === 401 && ((await res.json()) as ErrorJson).error.code === 'API_KEY_REVOKED';
      }),
    ).toBe(true);
  });

  it('refuses a disabled principal, and applies new key limits, on the other process too', async () => {
    const key = await cachedKey();
    await first.gql(
      first.adminToken,
      `mutation { setApiKeyLimits(apiKeyId: "${key.id}", maxTokensPerRequest: 2) { id } }`,
    );
    expect(
      await onSecondWithin5s(async () => {
        const res = await completion(second, key.token, 4);
        return res.status === 429 && ((await res.json()) as ErrorJson).error.code === 'MAX_TOKENS_EXCEEDED';
      }),
    ).toBe(true);
    await first.gql(
      first.adminToken,
      `mutation { setPrincipalDisabled(id: "${key.principalId}", disabled: true) { id } }`,
    );
    expect(
      await onSecondWithin5s(async () => {
        const res = await completion(second, key.token, 2);
        return res.status === 401 && ((await res.json()) as ErrorJson).error.code === 'PRINCIPAL_DISABLED';
      }),
    ).toBe(true);
  });
});
