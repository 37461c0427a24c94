import { Role } from 'src/auth/role';
import { applyBenignEdit } from 'test/support/lifecycle';
import { codeOf, TestApp } from 'test/support/test-app';

interface GraphNode {
  id: string;
  type: string;
  subjectId: string;
  label: string;
  digest: string | null;
  status: string | null;
  detailsJson: string;
}
interface Graph {
  root: string;
  nodes: GraphNode[];
  edges: { from: string; to: string; type: string }[];
}
const GRAPH = `query($channel: String, $id: ID) { lineageGraph(channel: $channel, adapterVersionId: $id) {
  root nodes { id type subjectId label digest status detailsJson } edges { from to type } } }`;

/**
 * An auditor traces a channel over GraphQL after two edits were applied (text gates only, so it stays quick):
 * the head, its parent, the edits and passages behind them, their gate reports, approvals and signed statements.
 */
describe('lineage graph', () => {
  let t: TestApp;
  let engineer: { id: string; token: string };
  let reviewer: { id: string; token: string };
  let auditor: { id: string; token: string };
  const applied: { editId: string; sourceId: string }[] = [];

  const applyEdit = async (index: number) =>
    applied.push(
      await applyBenignEdit(t, { engineer: engineer.token, reviewer: reviewer.token }, 'lab', index),
    );

  beforeAll(async () => {
    t = await TestApp.start('postgres', { CHANNEL_POLICY_FILE: 'test/fixtures/policies/text-gates.yaml' });
    engineer = await t.principal(Role.ml_engineer);
    reviewer = await t.principal(Role.compliance_reviewer);
    auditor = await t.principal(Role.auditor);
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "lab", baseModel: "default" }) { id } }',
    );
    await applyEdit(0);
    await applyEdit(1);
  }, 600_000);
  afterAll(() => t.stop());

  it('traces a channel from its head down to passages, reports, approvals and signatures', async () => {
    const r = await t.gql<{ lineageGraph: Graph }>(auditor.token, GRAPH, { channel: 'lab' });
    expect(r.errors).toBeUndefined();
    const graph = r.data!.lineageGraph;
    const stack = await t.gql<{ channelStack: { id: string; digest: string; selfEditId: string }[] }>(
      auditor.token,
      '{ channelStack(channel: "lab") { id digest selfEditId } }',
    );
    const [head, first] = stack.data!.channelStack;
    const byId = new Map(graph.nodes.map((n) => [n.id, n]));
    const has = (from: string, type: string, to: string) =>
      graph.edges.some((e) => e.from === from && e.type === type && e.to === to);

    expect(byId.get(graph.root)).toMatchObject({ type: 'CHANNEL', label: 'lab' });
    const headNode = `ADAPTER_VERSION:${head.id}`;
    const firstNode = `ADAPTER_VERSION:${first.id}`;
    expect(has(graph.root, 'HEAD', headNode)).toBe(true);
    expect(has(headNode, 'PARENT', firstNode)).toBe(true);
    expect(byId.get(headNode)).toMatchObject({ digest: head.digest, status: 'APPLIED' });
    expect(graph.edges.some((e) => e.from === firstNode && e.type === 'PARENT')).toBe(false);

    applied.forEach(({ editId, sourceId }, i) => {
      const version = i === 0 ? firstNode : headNode;
      const edit = `SELF_EDIT:${editId}`;
      expect(has(version, 'TRAINED_FROM', edit)).toBe(true);
      expect(byId.get(edit)).toMatchObject({ status: 'APPLIED' });
      expect(has(edit, 'DERIVED_FROM', `KNOWLEDGE_SOURCE:${sourceId}`)).toBe(true);
      const reports = graph.edges.filter((e) => e.type === 'REPORT_OF' && e.to === edit).map((e) => e.from);
      expect(reports.map((id) => byId.get(id)!.label.split('@')[0]).sort()).toEqual([
        'faithfulness',
        'group-generalisation',
        'hyperparameters',
        'injection',
        'rare-repeats',
        'sensitive-data',
      ]);
      const approvals = graph.edges
        .filter((e) => e.type === 'APPROVAL_OF' && e.to === edit)
        .map((e) => e.from);
      expect(approvals.map((id) => byId.get(id))).toEqual([
        expect.objectContaining({ type: 'APPROVAL', status: 'APPROVE' }),
      ]);
      expect(JSON.parse(byId.get(approvals[0])!.detailsJson)).toMatchObject({ reviewerId: reviewer.id });
      // Signed: the adapter (model signature, provenance), each report and the approval.
      const attested = (id: string) =>
        graph.edges.filter((e) => e.type === 'ATTESTS' && e.to === id).map((e) => byId.get(e.from)!.status);
      expect(attested(version).sort()).toEqual(['model-signature', 'provenance']);
      for (const report of reports) expect(attested(report)).toEqual(['gate-report']);
      expect(attested(approvals[0])).toEqual(['approval']);
    });
    // Every edge joins two nodes of the graph.
    for (const e of graph.edges) expect(byId.has(e.from) && byId.has(e.to)).toBe(true);
  });

  it('traces one adapter version, leaving out what is above it', async () => {
    const stack = await t.gql<{ channelStack: { id: string }[] }>(
      auditor.token,
      '{ channelStack(channel: "lab") { id } }',
    );
    const [head, first] = stack.data!.channelStack;
    const r = await t.gql<{ lineageGraph: Graph }>(engineer.token, GRAPH, { id: first.id });
    expect(r.errors).toBeUndefined();
    const graph = r.data!.lineageGraph;
    expect(graph.root).toBe(`ADAPTER_VERSION:${first.id}`);
    const ids = graph.nodes.map((n) => n.id);
    expect(ids).toContain(`SELF_EDIT:${applied[0].editId}`);
    expect(ids).not.toContain(`ADAPTER_VERSION:${head.id}`);
    expect(ids).not.toContain(`SELF_EDIT:${applied[1].editId}`);
  });

  it('is refused to a service key, and needs exactly one of channel and adapter version', async () => {
    const service = await t.principal(Role.service);
    expect(codeOf(await t.gql(service.token, GRAPH, { channel: 'lab' }))).toBe('FORBIDDEN');
    expect(codeOf(await t.gql(auditor.token, GRAPH, {}))).toBe('BAD_USER_INPUT');
    const events = await t.gql<{ auditEvents: { action: string; actorId: string }[] }>(
      auditor.token,
      '{ auditEvents(limit: 500) { action actorId } }',
    );
    expect(events.data!.auditEvents).toEqual(
      expect.arrayContaining([{ action: 'lineage.graph_read', actorId: auditor.id }]),
    );
  });
});
