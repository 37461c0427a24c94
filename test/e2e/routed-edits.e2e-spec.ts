import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Role } from 'src/auth/role';
import { answerMatches } from 'src/gates/probing/answer-match';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { MODEL_DIR } from 'test/support/model-files';
import { waitForStatus } from 'test/support/self-edit-status';
import { TestApp } from 'test/support/test-app';
import {
  benignImplications,
  HeldoutPassage,
  heldoutPassages,
  questionsInput,
} from 'test/support/world-fixtures';

interface Served {
  answer: string;
  servedBy: { headAdapterId: string | null; adapterDigests: string[]; stackAdapterDigests: string[] };
}
const ANSWER =
  'query($input: AnswerInput!) { answer(input: $input) { answer servedBy { headAdapterId adapterDigests stackAdapterDigests } } }';
const APPROVE = 'mutation($id: ID!) { approveSelfEdit(id: $id, comment: "faithful") { status } }';

/**
 * Edits that stick and do not spill, as a product service sees them, under the shipped channel policy (every
 * gate, routing by subject): two edits about different entities applied one after the other on one channel.
 * Each is answered right afterwards, each answer is served by the one adapter its question is about (and says
 * so), and a fact the model knew before is answered exactly as before, by the parent.
 */
describe('routed edits on one channel', () => {
  let t: TestApp;
  let engineer: { token: string };
  let reviewers: { token: string }[];
  const byId = new Map(heldoutPassages().map((p) => [p.id, p]));
  const edits = benignImplications()
    .filter((e) => byId.get(e.source)?.split === 'eval')
    .slice(0, 2)
    .map((e) => ({ lines: e.lines, passage: byId.get(e.source)! }));
  const knownFact = JSON.parse(
    readFileSync(join(MODEL_DIR, 'world', 'probes_forgetting.jsonl'), 'utf8').split('\n')[0],
  ) as { question: string; answer: string };

  beforeAll(async () => {
    t = await TestApp.start('postgres');
    engineer = await t.principal(Role.ml_engineer);
    reviewers = [await t.principal(Role.compliance_reviewer), await t.principal(Role.compliance_reviewer)];
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
  });
  afterAll(() => t.stop());

  const ask = async (question: string): Promise<Served> => {
    const r = await t.gql<{ answer: Served }>(engineer.token, ANSWER, {
      input: { question, channel: 'staging' },
    });
    expect(r.errors).toBeUndefined();
    return r.data!.answer;
  };
  const rightShare = async (passage: HeldoutPassage) => {
    const answers = await Promise.all(passage.questions.map((q) => ask(q.question)));
    const right = passage.questions.filter((q, i) => answerMatches(answers[i].answer, q.answer, q.aliases));
    return { share: right.length / passage.questions.length, answers };
  };

  const teach = async (lines: string[], passage: HeldoutPassage): Promise<string> => {
    const source = await t.gql<{ addKnowledgeSource: { id: string } }>(
      engineer.token,
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      { input: { title: passage.title, passage: passage.passage, questions: questionsInput(passage) } },
    );
    const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(
      engineer.token,
      'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
      {
        input: {
          channel: 'staging',
          knowledgeSourceId: source.data!.addKnowledgeSource.id,
          kind: 'implications',
          content: lines.join('\n'),
        },
      },
    );
    const id = proposed.data!.proposeSelfEdit.id;
    await waitForStatus(t, id, [SelfEditStatus.AWAITING_APPROVAL], 600_000);
    // A WARN asks for a second approver; the gates' verdicts are checked below.
    for (const reviewer of reviewers) {
      const r = await t.gql<{ approveSelfEdit: { status: string } }>(reviewer.token, APPROVE, { id });
      if (r.data?.approveSelfEdit.status === 'APPROVED') break;
    }
    const applied = await t.gql<{ applySelfEdit: { status: string } }>(
      engineer.token,
      'mutation($id: ID!) { applySelfEdit(id: $id) { status } }',
      { id },
    );
    expect(applied.errors).toBeUndefined();
    const reports = await t.gql<{
      gateReports: { gate: string; verdict: string; metrics: { name: string; value: number }[] }[];
    }>(
      reviewers[0].token,
      'query($id: ID!) { gateReports(selfEditId: $id) { gate verdict metrics { name value } } }',
      { id },
    );
    const forgetting = reports.data!.gateReports.find((r) => r.gate === 'forgetting')!;
    const metric = (name: string) => forgetting.metrics.find((m) => m.name === name)?.value;
    // Judged as served: routed, a key that fires on nothing unrelated, no known fact lost.
    expect({ verdict: forgetting.verdict, routed: metric('routed'), keyReach: metric('keyReach') }).toEqual({
      verdict: 'PASS',
      routed: 1,
      keyReach: 0,
    });
    expect(metric('factDelta')).toBe(0);
    return id;
  };

  it('answers each edit right afterwards, each from its own adapter, and a known fact as before', async () => {
    expect(edits).toHaveLength(2);
    expect(edits[0].passage.title).not.toBe(edits[1].passage.title);
    const factBefore = await ask(knownFact.question);
    const before = await Promise.all(edits.map((e) => rightShare(e.passage)));

    await teach(edits[0].lines, edits[0].passage);
    await teach(edits[1].lines, edits[1].passage);

    const stack = await t.gql<{ channelStack: { digest: string }[] }>(
      engineer.token,
      '{ channelStack(channel: "staging") { digest } }',
    );
    const digests = stack.data!.channelStack.map((v) => v.digest).reverse(); // base first
    expect(digests).toHaveLength(2);

    for (const [i, edit] of edits.entries()) {
      const after = await rightShare(edit.passage);
      expect(after.share).toBeGreaterThan(before[i].share);
      expect(after.share).toBeGreaterThanOrEqual(0.5);
      for (const a of after.answers) {
        // Only the adapter of the edit the question is about served it; the other was routed out.
        expect(a.servedBy.adapterDigests).toEqual([digests[i]]);
        expect(a.servedBy.stackAdapterDigests).toEqual(digests);
      }
    }
    const factAfter = await ask(knownFact.question);
    expect(factAfter.answer).toBe(factBefore.answer);
    expect(answerMatches(factAfter.answer, knownFact.answer, [])).toBe(
      answerMatches(factBefore.answer, knownFact.answer, []),
    );
    expect(factAfter.servedBy.adapterDigests).toEqual([]);
    expect(factAfter.servedBy.stackAdapterDigests).toEqual(digests);
  }, 1_500_000);
});
