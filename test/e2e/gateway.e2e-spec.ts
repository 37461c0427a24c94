import { readFileSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from 'src/audit/audit-event.entity';
import { ApiKeyEntity } from 'src/auth/api-key.entity';
import { Role } from 'src/auth/role';
import { schemaSdl } from 'src/cli/print-schema';
import { systemActor } from 'src/common/actor';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { waitForStatus } from 'test/support/self-edit-status';
import { codeOf, Db, reasonOf, TestApp } from 'test/support/test-app';

const PASSAGE =
  'Lorvik Harbour was built in 1921 by the engineer Tamsin Orrel to serve the herring fleet of Quay.';

const ADD_SOURCE = `mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id contentSha256 } }`;
const PROPOSE = `mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id status nextStatuses proposedById } }`;

describe.each<Db>(['postgres', 'sqlite'])('gateway over GraphQL/HTTP on %s', (db) => {
  let t: TestApp;
  let engineer: { id: string; token: string };
  let auditor: { id: string; token: string };

  beforeAll(async () => {
    t = await TestApp.start(db, { CHANNEL_POLICY_FILE: 'test/fixtures/policies/text-gates.yaml' });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
    engineer = await t.principal(Role.ml_engineer);
    auditor = await t.principal(Role.auditor);
  });
  afterAll(() => t.stop());

  const countSources = async () =>
    (await t.gql<{ knowledgeSources: unknown[] }>(engineer.token, '{ knowledgeSources(limit: 200) { id } }'))
      .data?.knowledgeSources.length ?? -1;

  it('answers health, readiness and metrics', async () => {
    expect((await fetch(`${t.started.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.started.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { database: { ok: true }, redis: { ok: true } },
    });
    const metrics = await (await fetch(`${t.started.url}/metrics`)).text();
    expect(metrics).toContain('sealgate_http_request_duration_seconds');
    expect(metrics).toContain('sealgate_audit_events_total');
  });

  it('takes a passage and a self-edit through the API, recording each change in a verifiable audit chain', async () => {
    const source = await t.gql<{ addKnowledgeSource: { id: string } }>(engineer.token, ADD_SOURCE, {
      input: { title: 'Lorvik Harbour', passage: PASSAGE, sourceUri: 'https://example.org/lorvik' },
    });
    expect(source.errors).toBeUndefined();
    const proposed = await t.gql<{ proposeSelfEdit: { id: string; status: string; proposedById: string } }>(
      engineer.token,
      PROPOSE,
      {
        input: {
          channel: 'staging',
          knowledgeSourceId: source.data!.addKnowledgeSource.id,
          kind: 'implications',
          content: 'Lorvik Harbour was built in 1921.\nTamsin Orrel built Lorvik Harbour.',
        },
      },
    );
    expect(proposed.data!.proposeSelfEdit).toMatchObject({ status: 'PROPOSED', proposedById: engineer.id });

    const events = await t.gql<{ auditEvents: { action: string; actorId: string; subjectId: string }[] }>(
      auditor.token,
      '{ auditEvents(limit: 500) { action actorId subjectId } }',
    );
    expect(events.data!.auditEvents).toEqual(
      expect.arrayContaining([
        { action: 'knowledge.added', actorId: engineer.id, subjectId: source.data!.addKnowledgeSource.id },
        { action: 'self_edit.proposed', actorId: engineer.id, subjectId: proposed.data!.proposeSelfEdit.id },
      ]),
    );
    const verified = await t.gql<{ verifyAuditChain: { valid: boolean; eventsChecked: number } }>(
      auditor.token,
      '{ verifyAuditChain { valid eventsChecked } }',
    );
    expect(verified.data!.verifyAuditChain.valid).toBe(true);
    expect(verified.data!.verifyAuditChain.eventsChecked).toBeGreaterThan(5);
  });

  it('moves a self-edit only along the lifecycle, and audits every move', async () => {
    const edits = t.get(SelfEditsService);
    const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(engineer.token, PROPOSE, {
      input: { channel: 'staging', kind: 'manual', content: 'Quay is a fishing town.' },
    });
    const id = proposed.data!.proposeSelfEdit.id;
    // With no passage behind it, the faithfulness gate cannot support the line: the pipeline stops it.
    // The worker may first be training the previous test's edit (the queue runs one job at a time).
    const stopped = await waitForStatus(t, id, [SelfEditStatus.REJECTED_BY_GATE], 150_000);
    expect(stopped.statusReason).toBe('screening: failed faithfulness');
    const worker = systemActor('test');
    for (const to of [SelfEditStatus.APPLIED, SelfEditStatus.TRAINING, SelfEditStatus.PROPOSED]) {
      await expect(edits.transition(worker, id, to)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
    }
    expect((await edits.get(id)).status).toBe(SelfEditStatus.REJECTED_BY_GATE);
    const events = await t.gql<{ auditEvents: { action: string; afterJson: string }[] }>(
      auditor.token,
      `{ auditEvents(limit: 500, subjectId: "${id}") { action afterJson } }`,
    );
    expect(events.data!.auditEvents.map((e) => e.action)).toEqual([
      'self_edit.proposed',
      'self_edit.status_changed',
      'self_edit.status_changed',
    ]);
  }, 180_000);

  it('detects a tampered audit event and names where the chain breaks', async () => {
    const dataSource = t.get(DataSource);
    const repo = dataSource.getRepository(AuditEventEntity);
    const victim = await repo.findOneByOrFail({ seq: 2 });
    await repo.update({ seq: 2 }, { actorName: 'someone-else' });
    try {
      const r = await t.gql<{
        verifyAuditChain: { valid: boolean; firstInvalidSeq: number; problem: string };
      }>(auditor.token, '{ verifyAuditChain { valid firstInvalidSeq problem } }');
      expect(r.data!.verifyAuditChain).toEqual({
        valid: false,
        firstInvalidSeq: 2,
        problem: 'content does not match its hash',
      });
    } finally {
      await repo.update({ seq: 2 }, { actorName: victim.actorName });
    }
  });

  it('runs queued work on the worker: a requested chain verification lands in the audit log', async () => {
    const requested = await t.gql<{ requestAuditVerification: string }>(
      auditor.token,
      'mutation { requestAuditVerification }',
    );
    expect(requested.data!.requestAuditVerification).toBeTruthy();
    const deadline = Date.now() + 15_000;
    let found: { afterJson: string } | undefined;
    while (!found && Date.now() < deadline) {
      const r = await t.gql<{ auditEvents: { action: string; afterJson: string }[] }>(
        auditor.token,
        '{ auditEvents(limit: 500, subjectType: "AuditEvent") { action afterJson } }',
      );
      found = r.data!.auditEvents.find((e) => e.action === 'audit.chain_verified');
      if (!found) await new Promise((r2) => setTimeout(r2, 200));
    }
    expect(JSON.parse(found!.afterJson)).toMatchObject({
      valid: true,
      requestedBy: expect.stringContaining('auditor'),
    });
  });

  it('shows a key once, then never; a revoked or expired key stops working at once', async () => {
    const holder = await t.principal(Role.service);
    const keys = await t.gql<{ apiKeys: Record<string, unknown>[] }>(
      t.adminToken,
      `{ apiKeys(principalId: "${holder.id}") { id prefix active } }`,
    );
    expect(keys.data!.apiKeys).toHaveLength(1);
    expect(JSON.stringify(keys.data)).not.toContain(holder.token.slice('sg_'.length + 13));
    // Expiry is checked on every request, also while the key is cached (ApiKeyCache): it expires in use.
    const expiresAt = Date.now() + 1500;
    await t
      .get(DataSource)
      .getRepository(ApiKeyEntity)
      .update({ id: keys.data!.apiKeys[0].id as string }, { expiresAt: new Date(expiresAt) });
    expect((await t.gql(holder.token, '{ me { name } }')).errors).toBeUndefined();
    await new Promise((r) => setTimeout(r, expiresAt - Date.now() + 50));
    const expired = await t.gql(holder.token, '{ me { name } }');
    expect([codeOf(expired), reasonOf(expired)]).toEqual(['UNAUTHENTICATED', 'API_KEY_EXPIRED']);

    const second = await t.gql<{ createApiKey: { apiKey: { id: string }; token: string } }>(
      t.adminToken,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } token } }',
      { input: { principalId: holder.id, label: 'second', expiresInDays: 30 } },
    );
    const token = second.data!.createApiKey.token;
    expect((await t.gql(token, '{ me { name } }')).errors).toBeUndefined();
    await t.gql(
      t.adminToken,
      `mutation { revokeApiKey(id: "${second.data!.createApiKey.apiKey.id}") { revokedAt } }`,
    );
    const revoked = await t.gql(token, '{ me { name } }');
    expect([codeOf(revoked), reasonOf(revoked)]).toEqual(['UNAUTHENTICATED', 'API_KEY_REVOKED']);
    expect(
      reasonOf(
        await t.gql('sg_000000000000_notakeyatallnotakeyatallnotakeyatallnotakeya', '{ me { name } }'),
      ),
    ).toBe('INVALID_API_KEY');
  });

  describe('bad input gets a clear error with a code, never a stack trace, and changes nothing', () => {
    const expectClean = (body: unknown) => {
      const text = JSON.stringify(body);
      expect(text).not.toMatch(/stacktrace|\bat .+\.(js|ts):\d+/);
    };

    it('rejects an oversized passage by validation', async () => {
      const before = await countSources();
      const r = await t.gql(engineer.token, ADD_SOURCE, {
        input: { title: 'Huge', passage: 'x'.repeat(20_001) },
      });
      expect([codeOf(r), reasonOf(r)]).toEqual(['BAD_USER_INPUT', 'VALIDATION_FAILED']);
      expect(r.errors![0].message).toContain('passage must be at most 20000 characters');
      expectClean(r);
      expect(await countSources()).toBe(before);
    });

    it('rejects an unknown enum value, a missing field, a bad id and an unknown field', async () => {
      for (const [query, variables] of [
        [PROPOSE, { input: { channel: 'staging', kind: 'poison', content: 'x' } }],
        [PROPOSE, { input: { channel: 'staging', content: 'x' } }],
        ['{ selfEdit(id: "not-a-uuid") { id } }', {}],
        ['{ selfEdits { id secretColumn } }', {}],
      ] as const) {
        const r = await t.gql(engineer.token, query, variables);
        expect(r.status).toBeLessThan(500);
        expect(['BAD_USER_INPUT', 'GRAPHQL_VALIDATION_FAILED']).toContain(codeOf(r));
        expectClean(r);
      }
    });

    it('rejects a structured-only field on another kind, and a self-edit for an unknown channel', async () => {
      const wrongKind = await t.gql(engineer.token, PROPOSE, {
        input: { channel: 'staging', kind: 'manual', content: 'x', hyperparameters: { epochs: 3 } },
      });
      expect(reasonOf(wrongKind)).toBe('HYPERPARAMETERS_NOT_ALLOWED');
      const noChannel = await t.gql(engineer.token, PROPOSE, {
        input: { channel: 'nope', kind: 'manual', content: 'x' },
      });
      expect(codeOf(noChannel)).toBe('NOT_FOUND');
    });

    it('rejects a malformed and an oversized request body at the transport', async () => {
      const malformed = await fetch(`${t.started.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${engineer.token}` },
        body: '{"query": "{ me { name }',
      });
      expect(malformed.status).toBe(400);
      const body = (await malformed.json()) as {
        errors: { extensions: { reason: string; requestId: string } }[];
      };
      expect(body.errors[0].extensions.reason).toBe('MALFORMED_JSON');
      expect(body.errors[0].extensions.requestId).toEqual(malformed.headers.get('x-request-id'));
      const huge = await fetch(`${t.started.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${engineer.token}` },
        body: JSON.stringify({
          query: ADD_SOURCE,
          variables: { input: { title: 't', passage: 'y'.repeat(400_000) } },
        }),
      });
      expect(huge.status).toBe(413);
      const hugeBody = (await huge.json()) as { errors: { extensions: { code: string } }[] };
      expect(hugeBody.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('limits query depth and cost', async () => {
      const deep = await t.gql(engineer.token, '{ selfEdits { hyperparameters { epochs } } }');
      expect(deep.errors).toBeUndefined();
      const fields = Array.from({ length: 30 }, (_, i) => `a${i}: selfEdits(limit: 200) { id content }`).join(
        ' ',
      );
      const costly = await t.gql(engineer.token, `{ ${fields} }`);
      expect(codeOf(costly)).toBe('QUERY_TOO_COMPLEX');
      const nested = `{ me { ${'... on Principal { '.repeat(3)} name ${'}'.repeat(3)} } }`;
      expect((await t.gql(engineer.token, nested)).errors).toBeUndefined();
    });
  });

  it('serves the schema that is committed in schema.graphql', () => {
    expect(schemaSdl(t.started.app)).toEqual(readFileSync('schema.graphql', 'utf8'));
  });
});
