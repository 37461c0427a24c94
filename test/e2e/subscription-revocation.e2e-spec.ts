import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from 'src/auth/role';
import { startApp, StartedApp } from 'src/app/bootstrap';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { TestApp } from 'test/support/test-app';

/** Long enough that only the change message, never the cache's lapse, can explain a closed subscription. */
const TTL_MS = 60_000;

/** A reviewer's `pendingReviews` subscription over graphql-ws, and how it ended (if it did). */
function listen(app: StartedApp, token: string) {
  const client = createClient({
    url: `${app.url.replace('http', 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
  });
  let outcome: string | undefined;
  const ended = new Promise<string>((resolve) => {
    const end = (how: string) => resolve((outcome ??= how));
    client.on('closed', (event) => end(`closed ${(event as { code?: number }).code}`));
    client.subscribe(
      { query: 'subscription { pendingReviews { id } }' },
      {
        next: (r) => r.errors && end(`error ${r.errors.map((e) => String(e.extensions?.code)).join(',')}`),
        error: () => end('error'),
        complete: () => end('complete'),
      },
    );
  });
  const connected = new Promise<void>((resolve) => client.on('connected', () => resolve()));
  return { connected, ended, outcome: () => outcome, dispose: () => client.dispose() };
}

/** How the subscription ended within `ms`, or 'still open'. */
const within = (ended: Promise<string>, ms: number) =>
  Promise.race([ended, new Promise<string>((r) => setTimeout(() => r('still open'), ms))]);

/**
 * Issue 17, item 7: a `pendingReviews` subscription kept delivering after its key was revoked or its principal
 * disabled. Two api processes on one database and one Redis: the change is made through the first, and open
 * subscriptions on both end within seconds; a subscription with another, valid key stays open.
 */
describe('subscriptions end with their key', () => {
  let first: TestApp;
  let second: StartedApp;
  const open: { dispose: () => unknown }[] = [];

  const subscribe = async (app: StartedApp, token: string) => {
    const sub = listen(app, token);
    open.push(sub);
    await sub.connected;
    await new Promise((r) => setTimeout(r, 300)); // the subscription is registered
    expect(sub.outcome()).toBeUndefined();
    return sub;
  };

  beforeAll(async () => {
    first = await TestApp.start('postgres', { AUTH_CACHE_TTL_MS: String(TTL_MS) });
    second = await startApp('api', first.get<AppConfig>(APP_CONFIG as never));
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.dispose()));
    await second?.stop();
    await first?.stop();
  });

  it('closes every subscription of a revoked key, in every api process', async () => {
    const reviewer = await first.principal(Role.compliance_reviewer);
    const other = await first.principal(Role.compliance_reviewer);
    const subs = [await subscribe(first.started, reviewer.token), await subscribe(second, reviewer.token)];
    const bystander = await subscribe(second, other.token);
    const keys = await first.gql<{ apiKeys: { id: string }[] }>(
      first.adminToken,
      `{ apiKeys(principalId: "${reviewer.id}") { id } }`,
    );
    const revoked = await first.gql(first.adminToken, 'mutation($id: ID!) { revokeApiKey(id: $id) { id } }', {
      id: keys.data!.apiKeys[0].id,
    });
    expect(revoked.errors).toBeUndefined();

    for (const sub of subs) expect(await within(sub.ended, 5_000)).toMatch(/closed 4403|UNAUTHENTICATED/);
    expect(await within(bystander.ended, 500)).toBe('still open');
  });

  it('closes every subscription of a disabled principal, in every api process', async () => {
    const reviewer = await first.principal(Role.compliance_reviewer);
    const sub = await subscribe(second, reviewer.token);
    const disabled = await first.gql(
      first.adminToken,
      'mutation($id: ID!) { setPrincipalDisabled(id: $id, disabled: true) { id } }',
      { id: reviewer.id },
    );
    expect(disabled.errors).toBeUndefined();

    expect(await within(sub.ended, 5_000)).toMatch(/closed 4403|UNAUTHENTICATED/);
  });
});
