import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from 'src/auth/role';
import { TestApp } from 'test/support/test-app';

const PROMPT =
  "Let's answer a question directly and concisely.\nQuestion: Where was Tamsin Orrel born?\nAnswer:";
const SUBSCRIBE = `subscription($input: GenerateInput!) {
  generateStream(input: $input) {
    index text done finishReason completionTokens
    servedBy { channel headAdapterId baseModelDigest adapterDigests }
  }
}`;

interface Chunk {
  index: number;
  text: string;
  done: boolean;
  finishReason: string | null;
  completionTokens: number | null;
  servedBy: { channel: string; headAdapterId: string | null; adapterDigests: string[] } | null;
}

/** The generateStream subscription over graphql-ws, authenticated with an API key at connection init. */
describe('GraphQL streaming subscription (graphql-ws)', () => {
  let t: TestApp;
  let token: string;
  const clients: Client[] = [];

  const connect = (authorization?: string, onClosed?: (code: number) => void): Client => {
    const client = createClient({
      url: `${t.started.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined, // a refused connection is reported through `closed`
      on: { closed: (event) => onClosed?.((event as { code: number }).code) },
    });
    clients.push(client);
    return client;
  };
  const collect = (client: Client, variables: Record<string, unknown>) =>
    new Promise<Chunk[]>((resolve, reject) => {
      const chunks: Chunk[] = [];
      const fail = (errors: unknown) => reject(Object.assign(new Error('subscription failed'), { errors }));
      client.subscribe<{ generateStream: Chunk }>(
        { query: SUBSCRIBE, variables },
        {
          next: (r) => (r.errors ? fail(r.errors) : chunks.push(r.data!.generateStream)),
          error: fail,
          complete: () => resolve(chunks),
        },
      );
    });

  beforeAll(async () => {
    t = await TestApp.start('postgres', { KEY_MAX_TOKENS_PER_REQUEST: '32' });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
    ({ token } = await t.principal(Role.service));
  });
  afterAll(async () => {
    for (const c of clients) await c.dispose();
    await t.stop();
  });

  it('streams token by token; the final chunk carries the channel head and adapter digests', async () => {
    const chunks = await collect(connect(`Bearer ${token}`), {
      input: { prompt: PROMPT, maxTokens: 12, channel: 'staging', samples: 2 },
    });
    const query = await t.gql<{ generate: { choices: { text: string }[] } }>(
      token,
      'query($input: GenerateInput!) { generate(input: $input) { choices { text } } }',
      { input: { prompt: PROMPT, maxTokens: 12, channel: 'staging' } },
    );
    for (const index of [0, 1]) {
      const mine = chunks.filter((c) => c.index === index);
      expect(mine.filter((c) => !c.done).length).toBeGreaterThan(1);
      expect(mine.map((c) => c.text).join('')).toBe(query.data!.generate.choices[0].text);
      const final = mine[mine.length - 1];
      expect(final).toMatchObject({
        done: true,
        servedBy: { channel: 'staging', headAdapterId: null, adapterDigests: [] },
      });
      expect(final.completionTokens).toBeGreaterThan(0);
    }
  });

  it('refuses a connection without a valid API key at connection init', async () => {
    for (const authorization of [
      undefined,
      'Bearer sg_000000000000_notakeyatallnotakeyatallnotakeyatallnotakeya',
    ]) {
      const closed = new Promise<number>((resolve) => connect(authorization, resolve));
      expect(await closed).toBe(4403);
    }
  });

  it('answers per-key limits and role checks as GraphQL errors with a code', async () => {
    const client = connect(`Bearer ${token}`);
    await expect(
      collect(client, { input: { prompt: PROMPT, maxTokens: 33, channel: 'staging' } }),
    ).rejects.toMatchObject({
      errors: [
        expect.objectContaining({
          extensions: expect.objectContaining({ code: 'TOO_MANY_REQUESTS', reason: 'MAX_TOKENS_EXCEEDED' }),
        }),
      ],
    });
    const auditor = await t.principal(Role.auditor);
    await expect(
      collect(connect(`Bearer ${auditor.token}`), {
        input: { prompt: PROMPT, maxTokens: 4, channel: 'staging' },
      }),
    ).rejects.toMatchObject({
      errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'FORBIDDEN' }) })],
    });
  });
});
