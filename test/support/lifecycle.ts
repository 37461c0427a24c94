import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { waitForStatus } from 'test/support/self-edit-status';
import { benignImplications, heldoutPassages, questionsInput } from 'test/support/world-fixtures';
import { TestApp } from 'test/support/test-app';

/**
 * Takes benign edit `index` (benignImplications()) through the lifecycle over GraphQL on `channel`: its passage
 * as a knowledge source (with the passage's questions unless `questions` is false), the proposal, the gates, one
 * approval and the apply. For channels whose policy needs one approval.
 */
export async function applyBenignEdit(
  t: TestApp,
  tokens: { engineer: string; reviewer: string },
  channel: string,
  index: number,
  { questions = true }: { questions?: boolean } = {},
): Promise<{ editId: string; sourceId: string }> {
  const edit = benignImplications()[index];
  const passage = heldoutPassages().find((p) => p.id === edit.source)!;
  const source = await t.gql<{ addKnowledgeSource: { id: string } }>(
    tokens.engineer,
    'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
    {
      input: {
        title: passage.title,
        passage: passage.passage,
        ...(questions && { questions: questionsInput(passage) }),
      },
    },
  );
  const sourceId = source.data!.addKnowledgeSource.id;
  const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(
    tokens.engineer,
    'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
    { input: { channel, knowledgeSourceId: sourceId, kind: 'implications', content: edit.lines.join('\n') } },
  );
  const editId = proposed.data!.proposeSelfEdit.id;
  await waitForStatus(t, editId, [SelfEditStatus.AWAITING_APPROVAL], 300_000);
  for (const [token, mutation] of [
    [tokens.reviewer, 'mutation($id: ID!) { approveSelfEdit(id: $id) { status } }'],
    [tokens.engineer, 'mutation($id: ID!) { applySelfEdit(id: $id) { status } }'],
  ]) {
    const result = await t.gql(token, mutation, { id: editId });
    if (result.errors) throw new Error(`${mutation}: ${JSON.stringify(result.errors)}`);
  }
  return { editId, sourceId };
}
