import { Role } from 'src/auth/role';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { waitForStatus } from 'test/support/self-edit-status';
import { codeOf, TestApp } from 'test/support/test-app';
import { heldoutPassages, questionsInput } from 'test/support/world-fixtures';

const PROPOSE_KNOWLEDGE = `mutation($input: ProposeKnowledgeInput!) {
  proposeKnowledge(input: $input) {
    knowledgeSource { id title questions { question } }
    selfEdits { id kind origin status content knowledgeSourceId proposedById }
  }
}`;

interface Proposed {
  proposeKnowledge: {
    knowledgeSource: { id: string; title: string; questions: { question: string }[] };
    selfEdits: {
      id: string;
      kind: string;
      origin: string;
      status: string;
      content: string;
      knowledgeSourceId: string;
      proposedById: string;
    }[];
  };
}

/** SEAL in the gateway: the channel's model writes self-edits from a passage, and each enters the pipeline. */
describe('proposeKnowledge over GraphQL', () => {
  let t: TestApp;
  let engineer: { id: string; token: string };
  let reviewer: { id: string; token: string };
  const passage = heldoutPassages().find((p) => p.split === 'eval')!;
  const input = (extra: Record<string, unknown>) => ({
    channel: 'staging',
    title: passage.title,
    passage: passage.passage,
    questions: questionsInput(passage),
    ...extra,
  });
  const countSources = async () =>
    (await t.gql<{ knowledgeSources: unknown[] }>(engineer.token, '{ knowledgeSources(limit: 200) { id } }'))
      .data!.knowledgeSources.length;

  beforeAll(async () => {
    t = await TestApp.start('postgres', { CHANNEL_POLICY_FILE: 'test/fixtures/policies/text-gates.yaml' });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }',
    );
    engineer = await t.principal(Role.ml_engineer);
    reviewer = await t.principal(Role.compliance_reviewer);
  });
  afterAll(() => t.stop());

  it("has the channel's model write k implications, each proposed as a generated self-edit that goes through the gates", async () => {
    const res = await t.gql<Proposed>(engineer.token, PROPOSE_KNOWLEDGE, {
      input: input({ samples: 3, seed: 7 }),
    });
    expect(res.errors).toBeUndefined();
    const { knowledgeSource, selfEdits } = res.data!.proposeKnowledge;
    expect(knowledgeSource.title).toBe(passage.title);
    expect(knowledgeSource.questions).toHaveLength(passage.questions.length);
    expect(selfEdits).toHaveLength(3);
    for (const e of selfEdits) {
      expect(e).toMatchObject({
        kind: 'implications',
        origin: 'GENERATED',
        knowledgeSourceId: knowledgeSource.id,
        proposedById: engineer.id,
      });
      // The model writes about the passage's subject.
      expect(e.content).toContain(passage.title);
    }
    expect(new Set(selfEdits.map((e) => e.content)).size).toBeGreaterThan(1); // sampled, not greedy
    // Each is screened by the channel's gates like any proposal.
    const settled = await waitForStatus(
      t,
      selfEdits[0].id,
      [SelfEditStatus.AWAITING_APPROVAL, SelfEditStatus.REJECTED_BY_GATE],
      240_000,
    );
    expect(settled.pipelineRun).toBe(1);
  }, 300_000);

  it('writes self-QA pairs with the self_qa family, reproducibly from a seed', async () => {
    const run = () =>
      t.gql<Proposed>(engineer.token, PROPOSE_KNOWLEDGE, {
        input: input({ family: 'self_qa', samples: 1, seed: 11 }),
      });
    const [a, b] = [await run(), await run()];
    const edit = a.data!.proposeKnowledge.selfEdits[0];
    expect(edit.kind).toBe('self_qa');
    expect(edit.content).toMatch(/^Question 1:/);
    expect(edit.content).toContain('\nAnswer:');
    expect(b.data!.proposeKnowledge.selfEdits[0].content).toBe(edit.content);
  }, 120_000);

  it('stores nothing when the caller may not propose, the channel is unknown or the input is bad', async () => {
    const before = await countSources();
    const forbidden = await t.gql(reviewer.token, PROPOSE_KNOWLEDGE, { input: input({ samples: 1 }) });
    expect(codeOf(forbidden)).toBe('FORBIDDEN');
    const unknown = await t.gql(engineer.token, PROPOSE_KNOWLEDGE, {
      input: input({ channel: 'nowhere', samples: 1 }),
    });
    expect(codeOf(unknown)).toBe('NOT_FOUND');
    const tooMany = await t.gql(engineer.token, PROPOSE_KNOWLEDGE, { input: input({ samples: 99 }) });
    expect(codeOf(tooMany)).toBe('BAD_USER_INPUT');
    const notAFamily = await t.gql(engineer.token, PROPOSE_KNOWLEDGE, {
      input: input({ family: 'structured', samples: 1 }),
    });
    expect(codeOf(notAFamily)).toBe('BAD_USER_INPUT');
    expect(await countSources()).toBe(before);
  }, 60_000);
});
