import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Role } from 'src/auth/role';
import { runVerify } from 'src/cli/audit-bundle';
import { closedBookPrompt } from 'src/gates/probing/probing';
import { AdapterStore } from 'src/inference/adapter-store';
import { ModelService } from 'src/inference/model.service';
import { AuditBundle } from 'src/lineage/audit-bundle/audit-bundle';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { verifyAuditBundle } from 'src/lineage/audit-bundle/verify-audit-bundle';
import { applyBenignEdit } from 'test/support/lifecycle';
import { benignImplications, heldoutPassages } from 'test/support/world-fixtures';
import { codeOf, reasonOf, TestApp } from 'test/support/test-app';

const benign = benignImplications();
const heldout = new Map(heldoutPassages().map((p) => [p.id, p]));

interface Version {
  id: string;
  digest: string;
  status: string;
  parentId: string | null;
  selfEditId: string | null;
  revert: {
    removedAdapterVersionId: string;
    removedSelfEditId: string;
    fromHeadAdapterId: string;
    carriedAdapterVersionIds: string[];
    carriedSelfEditIds: string[];
    reason: string;
    gateReportIds: string[];
  } | null;
}
const VERSION = `id digest status parentId selfEditId revert { removedAdapterVersionId removedSelfEditId
  fromHeadAdapterId carriedAdapterVersionIds carriedSelfEditIds reason gateReportIds }`;
const REVERT = `mutation($channel: String!, $id: ID!, $reason: String!) {
  revertSelfEdit(channel: $channel, adapterVersionId: $id, reason: $reason) { ${VERSION} } }`;
const ANSWER =
  'query($input: AnswerInput!) { answer(input: $input) { answer servedBy { headAdapterId adapterDigests } } }';

/**
 * Surgical revert over GraphQL (test/fixtures/policies/revert.yaml: text gates, a short inner update, and the
 * forgetting gate): three edits applied, the middle one reverted; the new head answers exactly as a stack that
 * never held it, its lineage says what was removed and why, and the exported bundle verifies offline.
 */
describe('surgical revert of one edit from the middle of a stack', () => {
  let t: TestApp;
  let engineer: { id: string; token: string };
  let reviewer: { id: string; token: string };
  let auditor: { id: string; token: string };

  const applyEdit = async (channel: string, index: number, questions: boolean): Promise<string> =>
    (
      await applyBenignEdit(t, { engineer: engineer.token, reviewer: reviewer.token }, channel, index, {
        questions,
      })
    ).editId;
  const stackOf = async (channel: string) =>
    (
      await t.gql<{ channelStack: Version[] }>(
        auditor.token,
        `{ channelStack(channel: "${channel}") { ${VERSION} } }`,
      )
    ).data!.channelStack;

  beforeAll(async () => {
    t = await TestApp.start('postgres', { CHANNEL_POLICY_FILE: 'test/fixtures/policies/revert.yaml' });
    engineer = await t.principal(Role.ml_engineer);
    reviewer = await t.principal(Role.compliance_reviewer);
    auditor = await t.principal(Role.auditor);
    for (const name of ['lab', 'brittle'])
      await t.gql(
        t.adminToken,
        `mutation { createChannel(input: { name: "${name}", baseModel: "default" }) { id } }`,
      );
  }, 120_000);
  afterAll(() => t.stop());

  it('rebuilds the stack without the edit, gated, signed, and exactly equal to a stack that never held it', async () => {
    const edits = [
      await applyEdit('lab', 0, true),
      await applyEdit('lab', 1, true),
      await applyEdit('lab', 2, true),
    ];
    const [c, b, a] = await stackOf('lab');
    expect([a, b, c].map((v) => v.selfEditId)).toEqual(edits);

    // Only a role the policy names may revert; a reason is needed; the head itself is rolled back, not reverted.
    expect(codeOf(await t.gql(reviewer.token, REVERT, { channel: 'lab', id: b.id, reason: 'x' }))).toBe(
      'FORBIDDEN',
    );
    expect(reasonOf(await t.gql(engineer.token, REVERT, { channel: 'lab', id: b.id, reason: ' ' }))).toBe(
      'REASON_REQUIRED',
    );
    expect(reasonOf(await t.gql(engineer.token, REVERT, { channel: 'lab', id: c.id, reason: 'x' }))).toBe(
      'NOT_REVERTIBLE',
    );

    const reverted = await t.gql<{ revertSelfEdit: Version }>(engineer.token, REVERT, {
      channel: 'lab',
      id: b.id,
      reason: 'the source passage was withdrawn',
    });
    expect(reverted.errors).toBeUndefined();
    const head = reverted.data!.revertSelfEdit;
    expect(head).toMatchObject({
      status: 'APPLIED',
      parentId: a.id,
      selfEditId: null,
      revert: {
        removedAdapterVersionId: b.id,
        removedSelfEditId: edits[1],
        fromHeadAdapterId: c.id,
        carriedAdapterVersionIds: [c.id],
        carriedSelfEditIds: [edits[2]],
        reason: 'the source passage was withdrawn',
      },
    });
    expect(head.revert!.gateReportIds).toHaveLength(1);

    // The channel serves the new head; the removed edit is rolled back, the carried one still applied.
    expect((await stackOf('lab')).map((v) => v.id)).toEqual([head.id, a.id]);
    const edit = async (id: string) =>
      (
        await t.gql<{ selfEdit: { status: string; statusReason: string | null } }>(
          auditor.token,
          `{ selfEdit(id: "${id}") { status statusReason } }`,
        )
      ).data!.selfEdit;
    expect(await edit(edits[1])).toEqual({
      status: 'ROLLED_BACK',
      statusReason: 'reverted: the source passage was withdrawn',
    });
    expect((await edit(edits[2])).status).toBe('APPLIED');
    const reports = await t.gql<{ gateReports: { id: string; gate: string; verdict: string }[] }>(
      auditor.token,
      `{ gateReports(selfEditId: "${edits[1]}") { id gate verdict } }`,
    );
    expect(reports.data!.gateReports).toEqual(
      expect.arrayContaining([
        {
          id: head.revert!.gateReportIds[0],
          gate: 'forgetting',
          verdict: expect.stringMatching(/PASS|WARN/),
        },
      ]),
    );

    // Exactly the stack that never held B: A then C, against A then the rebuilt head.
    const store = t.get(AdapterStore);
    const model = t.get(ModelService);
    const never = [a.digest, c.digest].map((d) => store.folderOf(d));
    const now = [a.digest, head.digest].map((d) => store.folderOf(d));
    const questions = edits.flatMap((_, i) =>
      heldout.get(benign[i].source)!.questions.map((q) => q.question),
    );
    for (const question of questions) {
      const served = await t.gql<{
        answer: { answer: string; servedBy: { headAdapterId: string; adapterDigests: string[] } };
      }>(engineer.token, ANSWER, { input: { question, channel: 'lab' } });
      expect(served.data!.answer.servedBy).toEqual({
        headAdapterId: head.id,
        adapterDigests: [a.digest, head.digest],
      });
      const [reference] = await model.generate([
        {
          prompt: closedBookPrompt(model, question),
          adapterFolders: never,
          params: { maxTokens: 16, temperature: 0, topP: 1, stop: ['\n'] },
        },
      ]);
      expect(served.data!.answer.answer).toBe(reference.text.trim());
    }
    const texts = questions.map((q) => closedBookPrompt(model, q));
    const [withoutB, rebuilt] = [await model.score(texts, never), await model.score(texts, now)];
    rebuilt.forEach((r, i) => expect(r.tokenLogProbs).toEqual(withoutB[i].tokenLogProbs));
    // ... while the stack that held B scores differently (the comparison can fail).
    const withB = await model.score(
      texts,
      [a.digest, b.digest, c.digest].map((d) => store.folderOf(d)),
    );
    expect(withB.map((r) => r.tokenLogProbs)).not.toEqual(withoutB.map((r) => r.tokenLogProbs));

    // The lineage graph names what was removed and what is carried.
    const graph = await t.gql<{ lineageGraph: { edges: { from: string; to: string; type: string }[] } }>(
      auditor.token,
      '{ lineageGraph(channel: "lab") { edges { from to type } } }',
    );
    expect(graph.data!.lineageGraph.edges).toEqual(
      expect.arrayContaining([
        { from: `ADAPTER_VERSION:${head.id}`, to: `ADAPTER_VERSION:${b.id}`, type: 'REVERTS' },
        { from: `ADAPTER_VERSION:${head.id}`, to: `ADAPTER_VERSION:${c.id}`, type: 'CARRIES' },
        { from: `ADAPTER_VERSION:${head.id}`, to: `ADAPTER_VERSION:${a.id}`, type: 'PARENT' },
      ]),
    );

    // Offline: the bundle verifies, rebuilding the concatenation; a changed byte of a carried adapter breaks it.
    const bundle = await t.get(AuditBundleExporter).export('lab');
    const verified = verifyAuditBundle(bundle);
    expect(verified).toMatchObject({ valid: true });
    expect(verified.checked).toContain(
      `revert ${head.id} is the rank concatenation of the versions it carries`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'sealgate-revert-'));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
      runVerify(join(dir, 'bundle.json'), undefined, false); // `sealgate verify FILE`
      expect(process.exitCode).toBe(0);
    } finally {
      log.mockRestore();
      process.exitCode = 0;
      rmSync(dir, { recursive: true, force: true });
    }
    const tampered = JSON.parse(JSON.stringify(bundle)) as AuditBundle;
    const file = tampered.versions[0].carried![0].files.find((f) => f.path === 'adapter_model.safetensors')!;
    const bytes = Buffer.from(file.base64, 'base64');
    bytes[bytes.length - 1] ^= 1;
    file.base64 = bytes.toString('base64');
    expect(verifyAuditBundle(tampered)).toMatchObject({
      valid: false,
      problem: expect.stringContaining(`carried adapter ${c.id} files digest`),
    });
    const reason = JSON.parse(JSON.stringify(bundle)) as AuditBundle;
    (reason.versions[0].version.revert as { reason: string }).reason = 'no reason';
    expect(verifyAuditBundle(reason)).toMatchObject({
      valid: false,
      problem: expect.stringContaining('provenance removal'),
    });
    expect(readFileSync(join(store.folderOf(head.digest), 'model.sig'), 'utf8')).toContain('dsseEnvelope');

    const events = await t.gql<{ auditEvents: { action: string; actorId: string }[] }>(
      auditor.token,
      '{ auditEvents(limit: 500, subjectType: "Channel") { action actorId } }',
    );
    expect(events.data!.auditEvents).toEqual(
      expect.arrayContaining([{ action: 'channel.reverted', actorId: engineer.id }]),
    );

    // Work goes on above the rebuilt head (the trainer loads it like any adapter), and rolling back below the
    // revert rolls back the edit it carries as well.
    const next = await applyEdit('lab', 5, true);
    const [top] = await stackOf('lab');
    expect(top).toMatchObject({ selfEditId: next, parentId: head.id });
    const rolledBack = await t.gql(
      engineer.token,
      `mutation { rollbackChannel(channel: "lab", toAdapterVersionId: "${a.id}", reason: "drill") { headAdapterId } }`,
    );
    expect(rolledBack.errors).toBeUndefined();
    expect((await edit(edits[2])).status).toBe('ROLLED_BACK');
    expect((await edit(next)).status).toBe('ROLLED_BACK');
    expect((await edit(edits[0])).status).toBe('APPLIED');
  }, 900_000);

  it('refuses a revert whose stack fails the forgetting gate, and moves nothing', async () => {
    // Passages without questions: applying the second edit has nothing to retain, so it passes; without the
    // first, the second's questions must be retained perfectly, which the brittle policy demands.
    const first = await applyEdit('brittle', 3, false);
    const second = await applyEdit('brittle', 4, true);
    const [top, bottom] = await stackOf('brittle');
    expect([bottom.selfEditId, top.selfEditId]).toEqual([first, second]);
    const refused = await t.gql(engineer.token, REVERT, {
      channel: 'brittle',
      id: bottom.id,
      reason: 'drill',
    });
    expect(reasonOf(refused)).toBe('REVERT_GATE_FAILED');
    expect(codeOf(refused)).toBe('CONFLICT');
    expect(refused.errors![0].message).toContain('forgetting failed');
    expect((await stackOf('brittle')).map((v) => [v.id, v.status])).toEqual([
      [top.id, 'APPLIED'],
      [bottom.id, 'APPLIED'],
    ]);
    const events = await t.gql<{ auditEvents: { action: string; afterJson: string }[] }>(
      auditor.token,
      '{ auditEvents(limit: 500, subjectType: "Channel") { action afterJson } }',
    );
    const logged = events.data!.auditEvents.filter((e) => e.action === 'channel.revert_refused');
    expect(logged.map((e) => JSON.parse(e.afterJson) as unknown)).toEqual([
      expect.objectContaining({ adapterVersionId: bottom.id, verdicts: { forgetting: 'FAIL' } }),
    ]);
  }, 900_000);
});
