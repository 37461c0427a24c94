import { gzipSync } from 'node:zlib';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from 'src/auth/role';
import { codeOf, GqlResult, reasonOf, TestApp } from 'test/support/test-app';

/**
 * The red-team probe's cases of issue 17 (items 5, 6 and 9): the query limits cannot be walked around, a denied
 * request is audited once, and a malformed request gets a 4xx with a code, never a 5xx.
 */
describe('limits that hold', () => {
  let t: TestApp;
  let auditor: { id: string; token: string };
  let service: { id: string; token: string };

  beforeAll(async () => {
    t = await TestApp.start('postgres');
    auditor = await t.principal(Role.auditor);
    service = await t.principal(Role.service);
  });
  afterAll(() => t.stop());

  interface Event {
    seq: number;
    action: string;
    actorId: string;
    afterJson: string | null;
  }
  const headSeq = async () => {
    const head = await t.gql<{ verifyAuditChain: { headSeq: number } }>(
      t.adminToken,
      '{ verifyAuditChain { headSeq } }',
    );
    return head.data!.verifyAuditChain.headSeq;
  };
  /** Audit events after `seq` (as the admin), in chain order. */
  const eventsAfter = async (seq: number): Promise<Event[]> => {
    const page = await t.gql<{ auditEvents: Event[] }>(
      t.adminToken,
      'query($after: Float!) { auditEvents(afterSeq: $after, limit: 500) { seq action actorId afterJson } }',
      { after: seq },
    );
    return page.data!.auditEvents;
  };
  const aliases = (count: number, field: string) =>
    Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(' ');

  describe('query cost (item 5)', () => {
    it('refuses a negative page size before anything runs, instead of pricing the query below zero', async () => {
      const before = await headSeq();
      const res = await t.gql(
        auditor.token,
        '{ auditEvents(limit: -1000000) { seq } verifyAuditChain { valid } }',
      );
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(reasonOf(res)).toBe('PAGING_ARGUMENT_OUT_OF_RANGE');
      expect(res.errors![0].message).toContain('auditEvents: limit must be from 1 to 500');
      expect(res.data ?? null).toBeNull();
      expect((await eventsAfter(before)).filter((e) => e.action === 'audit.verified')).toEqual([]);
    });

    it('refuses out-of-range paging arguments given as variables', async () => {
      const page =
        'query($limit: Int!, $after: Float!) { auditEvents(limit: $limit, afterSeq: $after) { seq } }';
      for (const variables of [
        { limit: -1, after: 0 },
        { limit: 1_000_000, after: 0 },
        { limit: 10, after: -5 },
      ]) {
        const res = await t.gql(auditor.token, page, variables);
        expect([res.status, codeOf(res), reasonOf(res)]).toEqual([
          400,
          'BAD_USER_INPUT',
          'PAGING_ARGUMENT_OUT_OF_RANGE',
        ]);
      }
      const inRange = await t.gql(auditor.token, page, { limit: 500, after: 0 });
      expect(inRange.errors).toBeUndefined();
    });

    it("refuses the probe's 1,500 aliased verifyAuditChain fields behind a negative limit", async () => {
      const before = await headSeq();
      const res = await t.gql(
        auditor.token,
        `{ auditEvents(limit: -1000000) { seq } ${aliases(1500, 'verifyAuditChain { valid }')} }`,
      );
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('QUERY_TOO_COMPLEX');
      expect(res.errors![0].message).toMatch(/selects 3002 fields .* over the limit of 500/);
      expect((await eventsAfter(before)).filter((e) => e.action === 'audit.verified')).toEqual([]);
    });

    it('refuses more aliases than the cost estimator can walk, instead of letting them through', async () => {
      const res = await t.gql(auditor.token, `{ ${aliases(6000, 'verifyAuditChain { valid }')} }`);
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('QUERY_TOO_COMPLEX');
    });

    it('prices verifyAuditChain as a read of the whole log', async () => {
      const res = await t.gql(auditor.token, `{ ${aliases(40, 'verifyAuditChain { valid }')} }`);
      expect([res.status, codeOf(res)]).toEqual([400, 'QUERY_TOO_COMPLEX']);
      expect(res.errors![0].message).toMatch(/^Query cost \d+ exceeds the limit of 2000$/);
    });

    it('applies the same limits to operations sent over graphql-ws', async () => {
      const socket = createClient({
        url: `${t.started.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${auditor.token}` },
        retryAttempts: 0,
      });
      const before = await headSeq();
      try {
        const run = (query: string) =>
          new Promise<GqlResult>((resolve, reject) => {
            socket.subscribe(
              { query },
              {
                next: (r) => resolve({ status: 0, ...r } as GqlResult),
                error: reject,
                complete: () => undefined,
              },
            );
          });
        const aliased = await run(`{ ${aliases(1500, 'verifyAuditChain { valid }')} }`);
        expect(codeOf(aliased)).toBe('QUERY_TOO_COMPLEX');
        const negative = await run('{ auditEvents(limit: -1000000) { seq } verifyAuditChain { valid } }');
        expect(reasonOf(negative)).toBe('PAGING_ARGUMENT_OUT_OF_RANGE');
      } finally {
        await socket.dispose();
      }
      expect((await eventsAfter(before)).filter((e) => e.action === 'audit.verified')).toEqual([]);
    });
  });

  describe('audit flood (item 6)', () => {
    it('records one access.denied event for a request denied on 200 aliased fields, naming them', async () => {
      const before = await headSeq();
      const res = await t.gql(service.token, `{ ${aliases(200, 'auditEvents(limit: 1) { seq }')} }`);
      expect(codeOf(res)).toBe('FORBIDDEN');
      const denied = (await eventsAfter(before)).filter(
        (e) => e.action === 'access.denied' && e.actorId === service.id,
      );
      expect(denied).toHaveLength(1);
      expect(JSON.parse(denied[0].afterJson!)).toMatchObject({
        operation: 'auditEvents',
        fields: { auditEvents: 200 },
      });
    });
  });

  describe('per-key rate limits on every API (item 6)', () => {
    /** A new principal of `role` whose key an admin limited to `rpm` requests a minute (a bucket of `rpm`). */
    const limitedKey = async (role: Role, rpm: number) => {
      const p = await t.principal(role);
      const keys = await t.gql<{ apiKeys: { id: string }[] }>(
        t.adminToken,
        `{ apiKeys(principalId: "${p.id}") { id } }`,
      );
      const set = await t.gql(
        t.adminToken,
        'mutation($id: ID!, $rpm: Int) { setApiKeyLimits(apiKeyId: $id, requestsPerMinute: $rpm) { id } }',
        { id: keys.data!.apiKeys[0].id, rpm },
      );
      expect(set.errors).toBeUndefined();
      return p;
    };
    const post = async (token: string, query: string) => {
      const res = await fetch(`${t.started.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      const body = (await res.json()) as Omit<GqlResult, 'status'>;
      return { res, result: { status: res.status, ...body } as GqlResult };
    };

    it('refuses a key past its burst on any operation, counting an operation once however many aliases, while another key goes on', async () => {
      const limited = await limitedKey(Role.auditor, 3);
      const other = await t.principal(Role.auditor);
      const before = await headSeq();
      // Three operations, one of them with 50 aliased fields: three takes.
      expect(
        (await post(limited.token, `{ ${aliases(50, 'channels { id }')} }`)).result.errors,
      ).toBeUndefined();
      expect((await post(limited.token, '{ auditEvents(limit: 1) { seq } }')).result.errors).toBeUndefined();
      expect((await post(limited.token, '{ channels { id } }')).result.errors).toBeUndefined();
      for (const query of [
        '{ auditEvents(limit: 1) { seq } }',
        '{ channels { id } verifyAuditChain { valid } }',
      ]) {
        const { res, result } = await post(limited.token, query);
        expect([codeOf(result), reasonOf(result)]).toEqual(['TOO_MANY_REQUESTS', 'RATE_LIMITED']);
        expect(result.errors![0].extensions).toMatchObject({
          details: { limit: 'apiKey.requestsPerMinute', burst: 3 },
        });
        expect(result.data ?? null).toBeNull();
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      }
      // Plain HTTP too: /v1/models answers 429 with Retry-After.
      const models = await fetch(`${t.started.url}/v1/models`, {
        headers: { authorization: `Bearer ${limited.token}` },
      });
      expect(models.status).toBe(429);
      expect(Number(models.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Nothing ran for the refused operations (verifyAuditChain would have written audit.verified).
      expect(
        (await eventsAfter(before)).filter((e) => e.actorId === limited.id && e.action === 'audit.verified'),
      ).toEqual([]);
      // Another key is not touched.
      expect(
        (await post(other.token, '{ auditEvents(limit: 1) { seq } channels { id } }')).result.errors,
      ).toBeUndefined();
    });

    it('refuses denied requests past the burst too, before they write an access.denied event', async () => {
      const limited = await limitedKey(Role.service, 2);
      const before = await headSeq();
      for (let i = 0; i < 2; i++) {
        expect(codeOf((await post(limited.token, '{ auditEvents(limit: 1) { seq } }')).result)).toBe(
          'FORBIDDEN',
        );
      }
      const { result } = await post(limited.token, `{ ${aliases(20, 'auditEvents(limit: 1) { seq }')} }`);
      expect(reasonOf(result)).toBe('RATE_LIMITED');
      const denied = (await eventsAfter(before)).filter(
        (e) => e.action === 'access.denied' && e.actorId === limited.id,
      );
      expect(denied).toHaveLength(2);
    });
  });

  describe('malformed requests get a 4xx with a code (item 9)', () => {
    const query = JSON.stringify({ query: '{ __typename }' });
    const post = (path: string, headers: Record<string, string>, body: string | Buffer) =>
      fetch(`${t.started.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminToken}`, ...headers },
        body,
      });
    /** The answer, checked to carry nothing of the server's internals. */
    const answer = async (res: Response): Promise<GqlResult> => {
      const text = await res.text();
      expect(text).not.toContain(process.cwd());
      expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|stacktrace/);
      return { status: res.status, ...(JSON.parse(text) as Omit<GqlResult, 'status'>) };
    };

    it.each<[string, Record<string, string>, () => string | Buffer, number, string, string]>([
      [
        'a charset the JSON parser does not read',
        { 'content-type': 'application/json; charset=latin1' },
        () => query,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'UNSUPPORTED_CHARSET',
      ],
      [
        'an unknown Content-Encoding',
        { 'content-type': 'application/json', 'content-encoding': 'br2' },
        () => query,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'UNSUPPORTED_CONTENT_ENCODING',
      ],
      [
        'a corrupt gzip body',
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        () => Buffer.concat([gzipSync(query).subarray(0, 12), Buffer.from('not gzip at all')]),
        400,
        'BAD_USER_INPUT',
        'UNREADABLE_BODY',
      ],
      [
        'a subscription sent by POST',
        { 'content-type': 'application/json' },
        () => JSON.stringify({ query: 'subscription { pendingReviews { id } }' }),
        400,
        'BAD_USER_INPUT',
        'SUBSCRIPTION_OVER_HTTP',
      ],
      [
        'a persisted-query hash that does not match the query',
        { 'content-type': 'application/json' },
        () =>
          JSON.stringify({
            query: '{ __typename }',
            extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } },
          }),
        400,
        'BAD_USER_INPUT',
        'MALFORMED_REQUEST',
      ],
    ])(
      'answers %s on /graphql with a 4xx and its code',
      async (_case, headers, body, status, code, reason) => {
        const res = await answer(await post('/graphql', headers, body()));
        expect([res.status, codeOf(res), reasonOf(res)]).toEqual([status, code, reason]);
        expect(res.errors![0].message.length).toBeLessThan(200);
      },
    );

    it('answers body-reading errors on /v1 the same way', async () => {
      const res = await post(
        '/v1/completions',
        { 'content-type': 'application/json', 'content-encoding': 'br2' },
        JSON.stringify({ model: 'default', prompt: 'hi' }),
      );
      const text = await res.text();
      expect(res.status).toBe(415);
      expect(JSON.parse(text)).toMatchObject({
        error: { code: 'UNSUPPORTED_MEDIA_TYPE', reason: 'UNSUPPORTED_CONTENT_ENCODING' },
      });
      expect(text).not.toContain(process.cwd());
    });
  });
});
