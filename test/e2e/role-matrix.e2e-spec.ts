import { randomUUID } from 'node:crypto';
import { GraphQLObjectType } from 'graphql';
import { DataSource } from 'typeorm';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { POLICY_KEY, PUBLIC_KEY } from 'src/auth/auth.decorators';
import { Role } from 'src/auth/role';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { codeOf, reasonOf, TestApp } from 'test/support/test-app';

const { admin, ml_engineer: eng, compliance_reviewer: rev, auditor: aud, service: svc } = Role;
const ALL = [admin, eng, rev, aud, svc];
/** A round id that exists nowhere. */
const NO_ROUND = '00000000-0000-4000-8000-000000000000';

interface Fixture {
  channel: string;
  sourceId: string;
  editId: string;
  /** A FAILED edit per role, for the retry row (a retry moves it on, so each role needs its own). */
  failedEditId: Record<Role, string>;
  ownPrincipalId: Record<Role, string>;
  ownKeyId: Record<Role, string>;
}

/**
 * The access policy as users know it: who may call each operation. Every Query and Mutation in the schema must
 * have a row here (a new operation without one fails), and each role is checked against it over HTTP.
 */
/**
 * `allowedReason`: an allowed role passes the access check and then meets this domain error (the fixture edit is
 * not in a state the operation accepts); denied roles still get FORBIDDEN first.
 */
const matrix: {
  op: string;
  allowed: Role[];
  allowedReason?: string;
  query: (f: Fixture, role: Role) => string;
}[] = [
  { op: 'me', allowed: ALL, query: () => '{ me { id } }' },
  { op: 'principals', allowed: [admin, eng, rev, aud, svc], query: () => '{ principals { id } }' },
  { op: 'apiKeys', allowed: [admin, eng, rev, aud], query: () => '{ apiKeys { id } }' },
  { op: 'channels', allowed: ALL, query: () => '{ channels { id } }' },
  { op: 'channel', allowed: ALL, query: (f) => `{ channel(name: "${f.channel}") { id } }` },
  { op: 'knowledgeSources', allowed: [admin, eng, rev, aud], query: () => '{ knowledgeSources { id } }' },
  {
    op: 'knowledgeSource',
    allowed: [admin, eng, rev, aud],
    query: (f) => `{ knowledgeSource(id: "${f.sourceId}") { id } }`,
  },
  { op: 'selfEdits', allowed: [admin, eng, rev, aud], query: () => '{ selfEdits { id } }' },
  { op: 'selfEdit', allowed: [admin, eng, rev, aud], query: (f) => `{ selfEdit(id: "${f.editId}") { id } }` },
  {
    op: 'generate',
    allowed: [admin, eng, rev, svc],
    query: (f) =>
      `{ generate(input: { prompt: "Question:", maxTokens: 2, channel: "${f.channel}" }) { choices { text } } }`,
  },
  {
    op: 'answer',
    allowed: [admin, eng, rev, svc],
    query: () => '{ answer(input: { question: "Who?" }) { answer } }',
  },
  {
    op: 'gateReports',
    allowed: [admin, eng, rev, aud],
    query: (f) => `{ gateReports(selfEditId: "${f.editId}") { verdict } }`,
  },
  {
    op: 'retrySelfEdit',
    allowed: [admin, eng],
    query: (f, role) => `mutation { retrySelfEdit(id: "${f.failedEditId[role]}") { id } }`,
  },
  {
    op: 'approvals',
    allowed: [admin, eng, rev, aud],
    query: (f) => `{ approvals(selfEditId: "${f.editId}") { id } }`,
  },
  {
    op: 'approveSelfEdit',
    allowed: [admin, rev],
    allowedReason: 'NOT_AWAITING_APPROVAL',
    query: (f) => `mutation { approveSelfEdit(id: "${f.editId}", comment: "ok") { id } }`,
  },
  {
    op: 'rejectSelfEdit',
    allowed: [admin, rev],
    allowedReason: 'NOT_AWAITING_APPROVAL',
    query: (f) => `mutation { rejectSelfEdit(id: "${f.editId}", reason: "no") { id } }`,
  },
  {
    op: 'applySelfEdit',
    allowed: [admin, eng],
    allowedReason: 'NOT_APPLICABLE',
    query: (f) => `mutation { applySelfEdit(id: "${f.editId}") { id } }`,
  },
  {
    op: 'rollbackChannel',
    allowed: [admin, eng],
    allowedReason: 'NOT_IN_LINEAGE',
    query: (f) =>
      `mutation { rollbackChannel(channel: "${f.channel}", toAdapterVersionId: null, reason: "test") { id } }`,
  },
  {
    op: 'revertSelfEdit',
    allowed: [admin, eng],
    allowedReason: 'NOT_IN_LINEAGE',
    query: (f) =>
      `mutation { revertSelfEdit(channel: "${f.channel}", adapterVersionId: "${f.sourceId}", reason: "test") { id } }`,
  },
  {
    op: 'channelStack',
    allowed: [admin, eng, rev, aud],
    query: (f) => `{ channelStack(channel: "${f.channel}") { id } }`,
  },
  {
    op: 'lineageGraph',
    allowed: [admin, eng, rev, aud],
    query: (f) => `{ lineageGraph(channel: "${f.channel}") { root } }`,
  },
  {
    op: 'reviewEvidence',
    allowed: [admin, eng, rev, aud],
    query: (f) => `{ reviewEvidence(selfEditId: "${f.editId}") { requiredApprovals } }`,
  },
  { op: 'logCheckpoint', allowed: [admin, aud], query: () => '{ logCheckpoint { treeSize note } }' },
  {
    op: 'logCheckpoints',
    allowed: [admin, aud],
    query: () => '{ logCheckpoints(limit: 1) { treeSize note } }',
  },
  { op: 'inclusionProof', allowed: [admin, aud], query: () => '{ inclusionProof(seq: 1) { hashes } }' },
  { op: 'consistencyProof', allowed: [admin, aud], query: () => '{ consistencyProof(fromSize: 1) }' },
  { op: 'signingKeys', allowed: [admin, aud], query: () => '{ signingKeys { keyId } }' },
  { op: 'auditEvents', allowed: [admin, aud], query: () => '{ auditEvents(limit: 1) { seq } }' },
  { op: 'verifyAuditChain', allowed: [admin, aud], query: () => '{ verifyAuditChain { valid } }' },
  {
    op: 'requestAuditVerification',
    allowed: [admin, aud],
    query: () => 'mutation { requestAuditVerification }',
  },
  {
    op: 'createPrincipal',
    allowed: [admin],
    query: (_f, role) =>
      `mutation { createPrincipal(input: { name: "made-by-${role}", role: service }) { id } }`,
  },
  {
    op: 'setPrincipalDisabled',
    allowed: [admin],
    query: (f) => `mutation { setPrincipalDisabled(id: "${f.ownPrincipalId[svc]}", disabled: false) { id } }`,
  },
  {
    op: 'createApiKey',
    allowed: [admin, eng, rev],
    query: (f, role) =>
      `mutation { createApiKey(input: { principalId: "${f.ownPrincipalId[role]}", label: "own" }) { token } }`,
  },
  {
    op: 'revokeApiKey',
    allowed: [admin, eng, rev],
    query: (f, role) => `mutation { revokeApiKey(id: "${f.ownKeyId[role]}") { id } }`,
  },
  {
    op: 'setApiKeyLimits',
    allowed: [admin],
    query: (f, role) =>
      `mutation { setApiKeyLimits(apiKeyId: "${f.ownKeyId[role]}", maxTokensPerRequest: 64) { id } }`,
  },
  {
    op: 'createChannel',
    allowed: [admin],
    query: (_f, role) =>
      `mutation { createChannel(input: { name: "ch-${role.replace('_', '-')}", baseModel: "default" }) { id } }`,
  },
  {
    op: 'addKnowledgeSource',
    allowed: [admin, eng],
    query: () =>
      'mutation { addKnowledgeSource(input: { title: "T", passage: "A passage long enough to pass." }) { id } }',
  },
  {
    op: 'proposeSelfEdit',
    allowed: [admin, eng],
    query: (f) =>
      `mutation { proposeSelfEdit(input: { channel: "${f.channel}", kind: manual, content: "x" }) { id } }`,
  },
  {
    // An unknown channel: an allowed role passes the access checks and meets NOT_FOUND before any generation.
    op: 'proposeKnowledge',
    allowed: [admin, eng],
    allowedReason: 'NOT_FOUND',
    query: () =>
      'mutation { proposeKnowledge(input: { channel: "nowhere", title: "T", passage: "A passage long enough to pass.", samples: 1 }) { selfEdits { id } } }',
  },
  { op: 'sealRounds', allowed: [admin, eng, rev, aud], query: () => '{ sealRounds { id } }' },
  {
    op: 'sealRound',
    allowed: [admin, eng, rev, aud],
    allowedReason: 'NOT_FOUND',
    query: () => `{ sealRound(id: "${NO_ROUND}") { id } }`,
  },
  {
    // The fixture passage has no questions, so an allowed role meets the round's own check and nothing runs.
    op: 'startSealRound',
    allowed: [admin, eng],
    allowedReason: 'PASSAGE_WITHOUT_QUESTIONS',
    query: (f) =>
      `mutation { startSealRound(input: { channel: "${f.channel}", knowledgeSourceIds: ["${f.sourceId}"] }) { id } }`,
  },
  {
    op: 'cancelSealRound',
    allowed: [admin, eng],
    allowedReason: 'NOT_FOUND',
    query: () => `mutation { cancelSealRound(id: "${NO_ROUND}") { id } }`,
  },
];

describe('role matrix: every operation allows exactly the roles policy grants', () => {
  let t: TestApp;
  const tokens = {} as Record<Role, string>;
  const fixture = { ownPrincipalId: {}, ownKeyId: {}, failedEditId: {} } as Fixture;

  beforeAll(async () => {
    t = await TestApp.start('postgres');
    for (const role of ALL) {
      const p = await t.principal(role, `matrix-${role}`);
      tokens[role] = p.token;
      fixture.ownPrincipalId[role] = p.id;
      // A second key of its own, for the revoke row; revoking the first would lock the role out.
      const spare = await t.gql<{ createApiKey: { apiKey: { id: string } } }>(
        t.adminToken,
        `mutation { createApiKey(input: { principalId: "${p.id}", label: "spare" }) { apiKey { id } } }`,
      );
      fixture.ownKeyId[role] = spare.data!.createApiKey.apiKey.id;
    }
    fixture.channel = 'matrix';
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "matrix", baseModel: "default" }) { id } }',
    );
    const source = await t.gql<{ addKnowledgeSource: { id: string } }>(
      tokens[eng],
      'mutation { addKnowledgeSource(input: { title: "S", passage: "A passage long enough to pass." }) { id } }',
    );
    fixture.sourceId = source.data!.addKnowledgeSource.id;
    const edit = await t.gql<{ proposeSelfEdit: { id: string } }>(
      tokens[eng],
      'mutation { proposeSelfEdit(input: { channel: "matrix", kind: manual, content: "x" }) { id } }',
    );
    fixture.editId = edit.data!.proposeSelfEdit.id;
    const proposed = await t.get(SelfEditsService).get(fixture.editId);
    for (const role of ALL) {
      const failed = Object.assign(new SelfEditEntity(), {
        ...proposed,
        id: randomUUID(),
        status: SelfEditStatus.FAILED,
        statusReason: 'infrastructure: fixture',
      });
      await t.get(DataSource).getRepository(SelfEditEntity).insert(failed);
      fixture.failedEditId[role] = failed.id;
    }
  });
  afterAll(() => t.stop());

  it('covers every Query and Mutation of the schema', () => {
    const schema = t.get(GraphQLSchemaHost).schema;
    const ops = [schema.getQueryType(), schema.getMutationType()]
      .filter((type): type is GraphQLObjectType => !!type)
      .flatMap((type) => Object.keys(type.getFields()));
    expect(ops.sort()).toEqual(matrix.map((row) => row.op).sort());
  });

  it('gives every resolver operation an access policy (deny by default)', () => {
    const reflector = t.get(Reflector);
    const scanner = t.get(MetadataScanner);
    const missing: string[] = [];
    for (const wrapper of t.get(DiscoveryService).getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object') continue;
      for (const method of scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const fn = instance[method] as () => unknown;
        const kind = reflector.get<string | undefined>('graphql:resolver_type', fn);
        if (!kind || !['Query', 'Mutation', 'Subscription'].includes(kind)) continue;
        if (!reflector.get(POLICY_KEY, fn) && !reflector.get(PUBLIC_KEY, fn))
          missing.push(`${wrapper.name}.${method}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it.each(matrix.flatMap((row) => ALL.map((role) => [row.op, role, row] as const)))(
    '%s as %s',
    async (_op, role, row) => {
      const result = await t.gql(tokens[role], row.query(fixture, role));
      if (row.allowed.includes(role) && row.allowedReason) {
        expect(reasonOf(result)).toBe(row.allowedReason);
      } else if (row.allowed.includes(role)) {
        expect(result.errors ?? []).toEqual([]);
      } else {
        expect(codeOf(result)).toBe('FORBIDDEN');
      }
    },
  );

  it('records each denied call in the audit log', async () => {
    const denied = await t.gql<{ auditEvents: { action: string; actorName: string }[] }>(
      tokens[aud],
      '{ auditEvents(limit: 500) { action actorName } }',
    );
    expect(denied.data!.auditEvents).toEqual(
      expect.arrayContaining([{ action: 'access.denied', actorName: `matrix-${svc}` }]),
    );
  });
});
