import { readdirSync, readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Role } from 'src/auth/role';
import { ModelSpec } from 'src/inference/model-spec';
import { AuditBundleExporter } from 'src/lineage/audit-bundle/audit-bundle.exporter';
import { verifyAuditBundle } from 'src/lineage/audit-bundle/verify-audit-bundle';
import { loadLoraAdapter } from 'src/inference/lora-adapter';
import { SealRoundsService } from 'src/seal/rounds/seal-rounds.service';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { MODEL_DIR } from 'test/support/model-files';
import { waitForStatus } from 'test/support/self-edit-status';
import { codeOf, reasonOf, TestApp } from 'test/support/test-app';
import { heldoutPassages, questionsInput } from 'test/support/world-fixtures';

const START = `mutation($input: StartSealRoundInput!) {
  startSealRound(input: $input) { id status k seed knowledgeSourceIds }
}`;
const ROUND_FIELDS = `id status error selfEditId attempts progress { stage done total }
  result { passages k meanReward meanBestReward kept generatorLoss keptSelfEdits { knowledgeSourceId text reward } }`;

interface RoundView {
  id: string;
  status: string;
  error: string | null;
  selfEditId: string | null;
  attempts: number;
  progress: { stage: string; done: number; total: number } | null;
  result: {
    passages: number;
    k: number;
    meanReward: number;
    meanBestReward: number;
    kept: number;
    generatorLoss: number | null;
    keptSelfEdits: { knowledgeSourceId: string; text: string; reward: number }[];
  } | null;
}

/** The processes whose command line names this round's folder (the Python round of that round). */
const roundProcesses = (roundId: string): number[] =>
  readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`seal-rounds/${roundId}`);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);

const until = async <T>(
  what: string,
  get: () => Promise<T>,
  ok: (v: T) => boolean,
  ms: number,
): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await get();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/**
 * ReST-EM rounds over GraphQL: started, watched through the subscription, cancelled; the generator update they
 * produce is proposed as a self-edit and goes through the gates, approval and apply like any other change.
 */
describe('SEAL rounds over GraphQL', () => {
  let t: TestApp;
  let engineer: { id: string; token: string };
  let reviewer: { id: string; token: string };
  let sourceIds: string[];
  const passages = heldoutPassages()
    .filter((p) => p.split === 'eval')
    .slice(9, 12);

  const round = async (id: string) => {
    const r = await t.gql<{ sealRound: RoundView }>(
      engineer.token,
      `query($id: ID!) { sealRound(id: $id) { ${ROUND_FIELDS} } }`,
      { id },
    );
    expect(r.errors).toBeUndefined();
    return r.data!.sealRound;
  };
  const countRounds = async () =>
    (await t.gql<{ sealRounds: unknown[] }>(engineer.token, '{ sealRounds(limit: 200) { id } }')).data!
      .sealRounds.length;
  const addSource = async (p: (typeof passages)[number], withQuestions = true) => {
    const r = await t.gql<{ addKnowledgeSource: { id: string } }>(
      engineer.token,
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      {
        input: {
          title: p.title,
          passage: p.passage,
          ...(withQuestions && { questions: questionsInput(p) }),
        },
      },
    );
    return r.data!.addKnowledgeSource.id;
  };

  beforeAll(async () => {
    t = await TestApp.start('postgres', { CHANNEL_POLICY_FILE: 'test/fixtures/policies/seal-rounds.yaml' });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
    engineer = await t.principal(Role.ml_engineer);
    reviewer = await t.principal(Role.compliance_reviewer);
    sourceIds = [];
    for (const p of passages) sourceIds.push(await addSource(p));
  });
  afterAll(() => t.stop());

  it('runs a round, reports its progress, and its generator update goes through the lifecycle to the channel', async () => {
    const started = await t.gql<{ startSealRound: { id: string; status: string; k: number } }>(
      engineer.token,
      START,
      { input: { channel: 'staging', knowledgeSourceIds: sourceIds, k: 2, seed: 0 } },
    );
    expect(started.errors).toBeUndefined();
    const id = started.data!.startSealRound.id;
    expect(started.data!.startSealRound).toMatchObject({ status: 'QUEUED', k: 2 });

    // Watch it to the end (the subscription completes once the round is over).
    const client = createClient({
      url: `${t.started.url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${engineer.token}` },
      retryAttempts: 0,
    });
    const seen: RoundView[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ sealRoundProgress: RoundView }>(
        {
          query: `subscription($id: ID!) { sealRoundProgress(id: $id) { ${ROUND_FIELDS} } }`,
          variables: { id },
        },
        {
          next: (r) =>
            r.errors ? reject(new Error(JSON.stringify(r.errors))) : seen.push(r.data!.sealRoundProgress),
          error: reject,
          complete: resolve,
        },
      );
    });
    await client.dispose();

    expect(seen.map((s) => s.status)).toContain('RUNNING');
    const trials = seen.filter((s) => s.progress?.stage.includes('trials'));
    expect(trials.length).toBeGreaterThan(0);
    expect(trials.at(-1)!.progress).toMatchObject({ done: 6, total: 6 }); // 3 passages x k=2
    const last = seen.at(-1)!;
    expect(last.status).toBe('SUCCEEDED');
    expect(last).toEqual(await round(id));
    expect(last.result).toMatchObject({ passages: 3, k: 2 });
    expect(last.result!.kept).toBeGreaterThan(0);
    expect(last.result!.keptSelfEdits).toHaveLength(last.result!.kept);
    for (const kept of last.result!.keptSelfEdits) {
      expect(sourceIds).toContain(kept.knowledgeSourceId);
      expect(kept.reward).toBeGreaterThan(0);
    }

    // The generator update is a proposed self-edit whose content is what the generator was taught.
    const editId = last.selfEditId!;
    const edit = await t.gql<{
      selfEdit: { kind: string; origin: string; content: string; proposedById: string };
    }>(engineer.token, 'query($id: ID!) { selfEdit(id: $id) { kind origin content proposedById } }', {
      id: editId,
    });
    expect(edit.data!.selfEdit).toMatchObject({
      kind: 'generator',
      origin: 'GENERATED',
      proposedById: engineer.id,
    });
    for (const kept of last.result!.keptSelfEdits)
      expect(edit.data!.selfEdit.content).toContain(kept.text.trim());

    // A reviewer finds the round behind the edit, with what the generator was taught and why.
    const behind = await t.gql<{ sealRounds: { id: string }[] }>(
      reviewer.token,
      'query($id: ID!) { sealRounds(selfEditId: $id) { id } }',
      { id: editId },
    );
    expect(behind.data!.sealRounds).toEqual([{ id }]);

    // Gated like any edit, then approved and applied.
    const waiting = await waitForStatus(t, editId, [SelfEditStatus.AWAITING_APPROVAL], 240_000);
    expect(waiting.pipelineRun).toBe(1);
    const evidence = await t.gql<{
      reviewEvidence: {
        gateReports: { gate: string; verdict: string; metrics: { name: string; value: number }[] }[];
      };
    }>(
      reviewer.token,
      'query($id: ID!) { reviewEvidence(selfEditId: $id) { gateReports { gate verdict metrics { name value } } } }',
      { id: editId },
    );
    // Each kept self-edit was screened against its own passage; the tiny model adds a detail here and there.
    const faithfulness = evidence.data!.reviewEvidence.gateReports.find((r) => r.gate === 'faithfulness');
    expect(faithfulness!.metrics).toContainEqual({ name: 'parts', value: last.result!.kept });
    for (const [token, mutation] of [
      [reviewer.token, 'mutation($id: ID!) { approveSelfEdit(id: $id) { status } }'],
      [engineer.token, 'mutation($id: ID!) { applySelfEdit(id: $id) { status } }'],
    ]) {
      const result = await t.gql(token, mutation, { id: editId });
      expect(result.errors).toBeUndefined();
    }

    // The channel now serves the very adapter the round wrote.
    const stored = await t.get(SealRoundsService).get(id);
    const written = await loadLoraAdapter(
      stored.result!.adapterDir,
      ModelSpec.load(MODEL_DIR),
      64 * 1024 * 1024,
    );
    const served = await t.gql<{ answer: { servedBy: { headAdapterId: string; adapterDigests: string[] } } }>(
      engineer.token,
      'query($input: AnswerInput!) { answer(input: $input) { servedBy { headAdapterId adapterDigests } } }',
      { input: { question: passages[0].questions[0].question, channel: 'staging' } },
    );
    expect(served.errors).toBeUndefined();
    expect(served.data!.answer.servedBy.adapterDigests).toEqual([written.digest]);
    const stack = await t.gql<{ channelStack: { id: string; digest: string; selfEditId: string }[] }>(
      engineer.token,
      'query { channelStack(channel: "staging") { id digest selfEditId } }',
    );
    expect(stack.data!.channelStack).toEqual([
      { id: served.data!.answer.servedBy.headAdapterId, digest: written.digest, selfEditId: editId },
    ]);

    // Its lineage verifies offline, and its provenance names the round and what the generator was trained on.
    const bundle = await t.get(AuditBundleExporter).export('staging');
    expect(verifyAuditBundle(bundle)).toMatchObject({ valid: true });
    const provenance = bundle.versions[0].attestations.find((a) => a.kind === 'provenance')!;
    const statement = JSON.parse(
      Buffer.from(
        (JSON.parse(provenance.bundle) as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload,
        'base64',
      ).toString(),
    ) as { predicate: { buildDefinition: { internalParameters: Record<string, unknown> } } };
    expect(statement.predicate.buildDefinition.internalParameters).toMatchObject({
      sealRoundId: id,
      hyperparameters: { learningRate: 1e-3, epochs: 3, rank: 16, alpha: 32 },
    });
  }, 400_000);

  it('retries a round whose process died, in the same folder, to the same end', async () => {
    const started = await t.gql<{ startSealRound: { id: string } }>(engineer.token, START, {
      input: { channel: 'staging', knowledgeSourceIds: sourceIds, k: 2, seed: 5 },
    });
    const id = started.data!.startSealRound.id;
    const { pids } = await until(
      'a running round with a process',
      async () => ({ status: (await round(id)).status, pids: roundProcesses(id) }),
      (v) => v.status === 'RUNNING' && v.pids.length > 0,
      60_000,
    );
    process.kill(pids[0], 'SIGKILL'); // as a crash or an out-of-memory kill would
    const done = await until(
      'the round to end',
      () => round(id),
      (r) => !['QUEUED', 'RUNNING'].includes(r.status),
      120_000,
    );
    expect(done).toMatchObject({ status: 'SUCCEEDED', attempts: 2 });
    const events = await t.gql<{ auditEvents: { action: string }[] }>(
      t.adminToken,
      'query($id: ID!) { auditEvents(subjectId: $id) { action } }',
      { id },
    );
    expect(events.data!.auditEvents.map((e) => e.action)).toEqual([
      'seal_round.started',
      'seal_round.finished',
    ]);
    expect(done.selfEditId).not.toBeNull();
  }, 180_000);

  it('puts a generator update through every model gate; target gain does not apply to it', async () => {
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "gated", baseModel: "default" }) { id } }',
    );
    const started = await t.gql<{ startSealRound: { id: string } }>(engineer.token, START, {
      input: { channel: 'gated', knowledgeSourceIds: sourceIds, k: 2, seed: 7 },
    });
    const id = started.data!.startSealRound.id;
    // A different seed from the other rounds: the same passages, seed and model would write the same adapter.
    const done = await until(
      'the round to end',
      () => round(id),
      (r) => !['QUEUED', 'RUNNING'].includes(r.status),
      120_000,
    );
    expect(done.status).toBe('SUCCEEDED');
    // Screened part by part (each kept self-edit against its own passage), trained by no one but its round.
    await waitForStatus(t, done.selfEditId!, [SelfEditStatus.AWAITING_APPROVAL], 400_000);
    const reports = await t.gql<{
      gateReports: {
        gate: string;
        verdict: string;
        metrics: { name: string; value: number }[];
      }[];
    }>(
      engineer.token,
      'query($id: ID!) { gateReports(selfEditId: $id) { gate verdict metrics { name value } } }',
      { id: done.selfEditId },
    );
    const byGate = new Map(
      reports.data!.gateReports.map((r) => [
        r.gate,
        { verdict: r.verdict, metrics: Object.fromEntries(r.metrics.map((m) => [m.name, m.value])) },
      ]),
    );
    for (const gate of ['injection', 'faithfulness', 'knowledge-conflict', 'trigger-perplexity']) {
      expect(byGate.get(gate)?.metrics.parts).toBe(done.result!.kept);
    }
    expect(byGate.get('target-gain')).toEqual({
      verdict: 'PASS',
      metrics: { questions: 0, skipped: 1, notApplicable: 1 },
    });
    for (const gate of ['canary-drift', 'trigger-scan', 'bias-probes', 'forgetting'])
      expect(byGate.has(gate)).toBe(true);
  }, 600_000);

  it('cancels a running round: its process is stopped and it is never resumed', async () => {
    const started = await t.gql<{ startSealRound: { id: string } }>(engineer.token, START, {
      input: { channel: 'staging', knowledgeSourceIds: sourceIds, k: 8, seed: 3 },
    });
    const id = started.data!.startSealRound.id;
    await until(
      'a running round with a process',
      async () => ({ status: (await round(id)).status, pids: roundProcesses(id) }),
      (v) => v.status === 'RUNNING' && v.pids.length > 0,
      60_000,
    );

    const reviewerCancel = await t.gql(
      reviewer.token,
      'mutation($id: ID!) { cancelSealRound(id: $id) { status } }',
      {
        id,
      },
    );
    expect(codeOf(reviewerCancel)).toBe('FORBIDDEN');
    const cancelled = await t.gql<{ cancelSealRound: { status: string; error: string } }>(
      engineer.token,
      'mutation($id: ID!) { cancelSealRound(id: $id) { status error } }',
      { id },
    );
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data!.cancelSealRound.status).toBe('CANCELLED');
    await until(
      'the round process to end',
      () => Promise.resolve(roundProcesses(id)),
      (pids) => pids.length === 0,
      15_000,
    );

    // Nothing picks it up again, and it cannot be cancelled twice.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await round(id)).toMatchObject({ status: 'CANCELLED', selfEditId: null });
    const again = await t.gql(engineer.token, 'mutation($id: ID!) { cancelSealRound(id: $id) { status } }', {
      id,
    });
    expect(codeOf(again)).toBe('CONFLICT');
    expect(reasonOf(again)).toBe('ROUND_NOT_LIVE');
    const events = await t.gql<{ auditEvents: { action: string; actorId: string | null }[] }>(
      t.adminToken,
      'query($id: ID!) { auditEvents(subjectId: $id) { action actorId } }',
      { id },
    );
    expect(events.data!.auditEvents).toEqual([
      { action: 'seal_round.started', actorId: engineer.id },
      { action: 'seal_round.cancelled', actorId: engineer.id },
    ]);
  }, 120_000);

  it('ends FAILED, proposing nothing, when no self-edit improves any passage', async () => {
    // Questions whose answers are in no passage: no self-edit can raise the accuracy on them.
    const p = passages[0];
    const unlearnable = await t.gql<{ addKnowledgeSource: { id: string } }>(
      engineer.token,
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      {
        input: {
          title: p.title,
          passage: p.passage,
          questions: p.questions.map((q) => ({ question: q.question, answer: 'Quartz Xylophone Seventeen' })),
        },
      },
    );
    const started = await t.gql<{ startSealRound: { id: string } }>(engineer.token, START, {
      input: { channel: 'staging', knowledgeSourceIds: [unlearnable.data!.addKnowledgeSource.id], k: 1 },
    });
    const id = started.data!.startSealRound.id;
    const done = await until(
      'the round to end',
      () => round(id),
      (r) => !['QUEUED', 'RUNNING'].includes(r.status),
      120_000,
    );
    expect(done).toMatchObject({ status: 'FAILED', selfEditId: null, result: null, attempts: 1 });
    expect(done.error).toMatch(/^No self-edit improved any passage/);
  }, 180_000);

  it('refuses a passage without questions and a reviewer, storing nothing', async () => {
    const before = await countRounds();
    const bare = await addSource(passages[0], false);
    const noQuestions = await t.gql(engineer.token, START, {
      input: { channel: 'staging', knowledgeSourceIds: [sourceIds[0], bare], k: 2 },
    });
    expect(codeOf(noQuestions)).toBe('BAD_USER_INPUT');
    expect(reasonOf(noQuestions)).toBe('PASSAGE_WITHOUT_QUESTIONS');
    const forbidden = await t.gql(reviewer.token, START, {
      input: { channel: 'staging', knowledgeSourceIds: sourceIds, k: 2 },
    });
    expect(codeOf(forbidden)).toBe('FORBIDDEN');
    expect(await countRounds()).toBe(before);
    // And a person cannot propose a generator update directly.
    const direct = await t.gql(
      engineer.token,
      'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
      { input: { channel: 'staging', kind: 'generator', content: 'Anything at all.' } },
    );
    expect(reasonOf(direct)).toBe('GENERATOR_ONLY_FROM_ROUND');
  }, 60_000);
});
