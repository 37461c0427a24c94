import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { AttestationsService } from 'src/attestation/attestations.service';
import { MODEL_SIGNATURE_FILE } from 'src/attestation/sigstore/model-files';
import { AdapterStore } from 'src/inference/adapter-store';
import { Role } from 'src/auth/role';
import { systemActor } from 'src/common/actor';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { runVerify } from 'src/cli/audit-bundle';
import { AuditBundle } from 'src/lineage/audit-bundle/audit-bundle';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { verifyAuditBundle } from 'src/lineage/audit-bundle/verify-audit-bundle';
import { answerMatches } from 'src/gates/probing/answer-match';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { waitForStatus } from 'test/support/self-edit-status';
import { benignImplications, heldoutPassages, questionsInput } from 'test/support/world-fixtures';
import { codeOf, reasonOf, TestApp } from 'test/support/test-app';

const benign = benignImplications();
const heldout = new Map(heldoutPassages().map((p) => [p.id, p]));

const APPROVE =
  'mutation($id: ID!, $comment: String) { approveSelfEdit(id: $id, comment: $comment) { status } }';
const ANSWER =
  'query($input: AnswerInput!) { answer(input: $input) { answer servedBy { headAdapterId adapterDigests } } }';

/**
 * The lifecycle as its users drive it over GraphQL, every gate on, with a review policy of two approvals and a
 * comment with each (test/fixtures/policies/review.yaml): propose -> gates -> two approvals -> apply -> answers from the new head -> rollback ->
 * answers from the old head, with separation of duties enforced on the way.
 */
describe('approval, apply and rollback', () => {
  let t: TestApp;
  let engineer: { id: string; token: string };
  let reviewers: { id: string; token: string }[];
  // A benign edit whose candidate passes every gate at the shipped inner update (docs/gates.md: most warn on forgetting).
  const edit = benign[0];
  const passage = heldout.get(edit.source)!;

  beforeAll(async () => {
    t = await TestApp.start('postgres', { CHANNEL_POLICY_FILE: 'test/fixtures/policies/review.yaml' });
    engineer = await t.principal(Role.ml_engineer);
    reviewers = [await t.principal(Role.compliance_reviewer), await t.principal(Role.compliance_reviewer)];
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "prod", baseModel: "default" }) { id } }',
    );
  });
  afterAll(() => t.stop());

  const answers = async () =>
    Promise.all(
      passage.questions.map(async (q) => {
        const r = await t.gql<{
          answer: { answer: string; servedBy: { headAdapterId: string | null; adapterDigests: string[] } };
        }>(engineer.token, ANSWER, { input: { question: q.question, channel: 'prod' } });
        expect(r.errors).toBeUndefined();
        return r.data!.answer;
      }),
    );
  const rightCount = (given: { answer: string }[]) =>
    passage.questions.filter((q, i) => answerMatches(given[i].answer, q.answer, q.aliases)).length;

  it('takes an edit from proposal to the served head and back', async () => {
    const before = await answers();
    expect(before.every((a) => a.servedBy.headAdapterId === null)).toBe(true);

    // A reviewer listens for pending work before anything is proposed.
    const listener = createClient({
      url: `${t.started.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${reviewers[0].token}` },
      retryAttempts: 0,
    });
    const notified = new Promise<{ id: string; status: string }>((resolve, reject) => {
      listener.subscribe<{ pendingReviews: { id: string; status: string } }>(
        { query: 'subscription { pendingReviews { id status } }' },
        {
          next: (r) =>
            r.errors ? reject(new Error(JSON.stringify(r.errors))) : resolve(r.data!.pendingReviews),
          error: reject,
          complete: () => undefined,
        },
      );
    });
    await new Promise((r) => setTimeout(r, 500)); // the subscription is registered

    const source = await t.gql<{ addKnowledgeSource: { id: string } }>(
      engineer.token,
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      {
        input: {
          title: passage.title,
          passage: passage.passage,
          questions: questionsInput(passage),
        },
      },
    );
    const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(
      engineer.token,
      'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
      {
        input: {
          channel: 'prod',
          knowledgeSourceId: source.data!.addKnowledgeSource.id,
          kind: 'implications',
          content: edit.lines.join('\n'),
        },
      },
    );
    const id = proposed.data!.proposeSelfEdit.id;
    await waitForStatus(t, id, [SelfEditStatus.AWAITING_APPROVAL], 400_000);
    expect(await notified).toEqual({ id, status: 'AWAITING_APPROVAL' });
    await listener.dispose();

    // What the reviewer sees before deciding.
    const evidence = await t.gql<{
      reviewEvidence: {
        source: { passage: string };
        gateReports: { gate: string; verdict: string }[];
        requiredApprovals: number;
        approvedBy: string[];
        expiresAt: string;
      };
    }>(
      reviewers[0].token,
      'query($id: ID!) { reviewEvidence(selfEditId: $id) { source { passage } gateReports { gate verdict } requiredApprovals approvedBy expiresAt } }',
      { id },
    );
    expect(evidence.data!.reviewEvidence).toMatchObject({
      source: { passage: passage.passage },
      requiredApprovals: 2,
      approvedBy: [],
    });
    expect(evidence.data!.reviewEvidence.gateReports.length).toBeGreaterThan(0);
    expect(new Date(evidence.data!.reviewEvidence.expiresAt).getTime()).toBeGreaterThan(Date.now());

    // Separation of duties and the channel's policy.
    expect(codeOf(await t.gql(engineer.token, APPROVE, { id, comment: 'mine' }))).toBe('FORBIDDEN');
    expect(reasonOf(await t.gql(reviewers[0].token, APPROVE, { id }))).toBe('COMMENT_REQUIRED');
    const first = await t.gql<{ approveSelfEdit: { status: string } }>(reviewers[0].token, APPROVE, {
      id,
      comment: 'faithful to the passage; gates clean',
    });
    expect(first.data!.approveSelfEdit.status).toBe('AWAITING_APPROVAL');
    expect(reasonOf(await t.gql(reviewers[0].token, APPROVE, { id, comment: 'again' }))).toBe(
      'ALREADY_DECIDED',
    );
    const early = await t.gql(engineer.token, 'mutation($id: ID!) { applySelfEdit(id: $id) { status } }', {
      id,
    });
    expect(reasonOf(early)).toBe('NOT_APPLICABLE');
    expect(early.errors![0].message).toContain('1 of 2 required approvals');

    const second = await t.gql<{ approveSelfEdit: { status: string } }>(reviewers[1].token, APPROVE, {
      id,
      comment: 'agree',
    });
    expect(second.data!.approveSelfEdit.status).toBe('APPROVED');

    // Killed in the middle of apply (signed, not yet committed): nothing is applied and nothing signed on disk.
    const edits = t.get(SelfEditsService);
    const candidate = (await t.get(AdapterVersionsRepository).candidateOf(await edits.get(id)))!;
    const signatureFile = join(t.get(AdapterStore).folderOf(candidate.digest), MODEL_SIGNATURE_FILE);
    // The adapter store outlives a test run, and the same training gives the same digest: start without the file.
    rmSync(signatureFile, { force: true });
    const crash = jest
      .spyOn(edits, 'transitionIn')
      .mockRejectedValueOnce(new Error('the process was killed'));
    const crashed = await t.gql(engineer.token, 'mutation($id: ID!) { applySelfEdit(id: $id) { status } }', {
      id,
    });
    crash.mockRestore();
    expect(crashed.errors).toBeDefined();
    expect(existsSync(signatureFile)).toBe(false);
    expect(await t.get(AttestationsService).about([candidate.id])).toEqual([]);
    expect((await edits.get(id)).status).toBe(SelfEditStatus.APPROVED);

    const applied = await t.gql<{ applySelfEdit: { status: string } }>(
      engineer.token,
      'mutation($id: ID!) { applySelfEdit(id: $id) { status } }',
      { id },
    );
    expect(applied.errors).toBeUndefined();
    expect(applied.data!.applySelfEdit.status).toBe('APPLIED');
    // model.sig is written once the apply has committed; lost later, serving restores it from the record.
    expect(existsSync(signatureFile)).toBe(true);
    rmSync(signatureFile);
    const served = await t.gql<{ generate: { servedBy: { headAdapterId: string } } }>(
      t.adminToken,
      'query { generate(input: { channel: "prod", prompt: "Quay", maxTokens: 2 }) { servedBy { headAdapterId } } }',
    );
    expect(served.data?.generate.servedBy.headAdapterId).toBe(candidate.id);
    expect(existsSync(signatureFile)).toBe(true);
    const stack = await t.gql<{
      channelStack: { id: string; digest: string; status: string; selfEditId: string }[];
    }>(reviewers[0].token, '{ channelStack(channel: "prod") { id digest status selfEditId } }');
    const [head] = stack.data!.channelStack;
    expect(head).toMatchObject({ status: 'APPLIED', selfEditId: id });

    // An auditor's bundle verifies offline; one changed byte anywhere breaks it, naming where.
    const bundle = await t.get(AuditBundleExporter).export('prod');
    expect(verifyAuditBundle(bundle)).toMatchObject({ valid: true });
    expect(bundle.versions[0].attestations.map((a) => a.kind).sort()).toEqual(
      expect.arrayContaining(['approval', 'gate-report', 'model-signature', 'provenance']),
    );
    const tampered = (change: (b: AuditBundle) => void) => {
      const copy = JSON.parse(JSON.stringify(bundle)) as AuditBundle;
      change(copy);
      return verifyAuditBundle(copy);
    };
    const adapterByte = tampered((b) => {
      const file = b.versions[0].files.find((f) => f.path === 'adapter_model.safetensors')!;
      const bytes = Buffer.from(file.base64, 'base64');
      bytes[bytes.length - 1] ^= 1;
      file.base64 = bytes.toString('base64');
    });
    expect(adapterByte).toMatchObject({ valid: false, problem: expect.stringContaining('files digest') });
    const signatureByte = tampered((b) => {
      const approval = b.versions[0].attestations.find((a) => a.kind === 'approval')!;
      const parsed = JSON.parse(approval.bundle) as { dsseEnvelope: { signatures: { sig: string }[] } };
      const sig = Buffer.from(parsed.dsseEnvelope.signatures[0].sig, 'base64');
      sig[10] ^= 1;
      parsed.dsseEnvelope.signatures[0].sig = sig.toString('base64');
      approval.bundle = JSON.stringify(parsed);
      approval.sha256 = createHash('sha256').update(approval.bundle).digest('hex');
    });
    expect(signatureByte).toMatchObject({
      valid: false,
      problem: expect.stringMatching(/^approval of .* in the log/),
    });
    const db = t.get(DataSource);
    await db.query(`UPDATE gate_reports SET "durationMs" = "durationMs" + 1 WHERE "selfEditId" = $1`, [id]);
    try {
      const rowChanged = verifyAuditBundle(await t.get(AuditBundleExporter).export('prod'));
      expect(rowChanged).toMatchObject({
        valid: false,
        problem: expect.stringMatching(/^gate report .*: its content does not match its digest/),
      });
    } finally {
      await db.query(`UPDATE gate_reports SET "durationMs" = "durationMs" - 1 WHERE "selfEditId" = $1`, [id]);
    }

    // The command line: exit 0 on the bundle, 1 on a changed one.
    const dir = mkdtempSync(join(tmpdir(), 'sealgate-audit-'));
    writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      runVerify(join(dir, 'bundle.json'), undefined, false);
      expect(process.exitCode).toBe(0);
      writeFileSync(
        join(dir, 'bundle.json'),
        JSON.stringify(bundle).replace(`"comment":"agree"`, `"comment":"agreed"`),
      );
      runVerify(join(dir, 'bundle.json'), undefined, false);
      expect(process.exitCode).toBe(1);
      expect(log).toHaveBeenLastCalledWith(expect.stringMatching(/^BROKEN after \d+ checks: /));
    } finally {
      log.mockRestore();
      process.exitCode = 0;
      rmSync(dir, { recursive: true, force: true });
    }

    const after = await answers();
    for (const a of after)
      expect(a.servedBy).toEqual({ headAdapterId: head.id, adapterDigests: [head.digest] });
    expect(rightCount(after)).toBeGreaterThan(rightCount(before));

    const rolledBack = await t.gql<{ rollbackChannel: { headAdapterId: string | null } }>(
      engineer.token,
      'mutation { rollbackChannel(channel: "prod", toAdapterVersionId: null, reason: "drill") { headAdapterId } }',
    );
    expect(rolledBack.data!.rollbackChannel.headAdapterId).toBeNull();
    const again = await answers();
    expect(again).toEqual(before);
    expect((await waitForStatus(t, id, [SelfEditStatus.ROLLED_BACK])).statusReason).toBe('drill');

    const events = await t.gql<{ auditEvents: { action: string }[] }>(
      t.adminToken,
      '{ auditEvents(limit: 500) { action } }',
    );
    const actions = events.data!.auditEvents.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['self_edit.approved', 'channel.applied', 'channel.rolled_back']),
    );
    // After the rollback the channel serves the base model; its bundle (with the signed rollback) still verifies.
    const afterRollback = await t.get(AuditBundleExporter).export('prod');
    expect(afterRollback.versions).toEqual([]);
    expect(verifyAuditBundle(afterRollback)).toMatchObject({ valid: true });
  }, 500_000);

  it('expires a review left open past the channel policy', async () => {
    const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(
      t.adminToken,
      'mutation { proposeSelfEdit(input: { channel: "prod", kind: manual, content: "Quay is a port." }) { id } }',
    );
    const id = proposed.data!.proposeSelfEdit.id;
    await waitForStatus(t, id, [SelfEditStatus.REJECTED_BY_GATE], 120_000);
    // A review opened 49 hours ago (prod: 48 hours), as the row would look.
    const stale = new Date(Date.now() - 49 * 3_600_000);
    await t
      .get(DataSource)
      .getRepository(SelfEditEntity)
      .update({ id }, { status: SelfEditStatus.AWAITING_APPROVAL, updatedAt: stale });
    expect(await t.get(ApprovalsService).expireOverdue(systemActor('test'))).toBe(1);
    expect((await t.get(SelfEditsService).get(id)).status).toBe(SelfEditStatus.EXPIRED);
  }, 150_000);

  it('never lets anyone decide on their own proposal, whatever their role', async () => {
    const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(
      t.adminToken,
      'mutation { proposeSelfEdit(input: { channel: "prod", kind: manual, content: "Quay is a town." }) { id } }',
    );
    const r = await t.gql(t.adminToken, APPROVE, { id: proposed.data!.proposeSelfEdit.id, comment: 'me' });
    expect(codeOf(r)).toBe('FORBIDDEN');
    expect(reasonOf(r)).toBe('OWN_PROPOSAL');
  });
});
