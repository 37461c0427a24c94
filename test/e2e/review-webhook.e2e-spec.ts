import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { ReviewWebhook } from 'src/approvals/review-webhook';
import { WebhookOutboxRepository } from 'src/approvals/webhook-outbox.repository';
import { Role } from 'src/auth/role';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { waitForStatus } from 'test/support/self-edit-status';
import { benignImplications, heldoutPassages, questionsInput } from 'test/support/world-fixtures';
import { TestApp } from 'test/support/test-app';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** A receiver as the Standard Webhooks spec tells one to check a message, written apart from the gateway's code. */
function verified(headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id'] ?? '');
  const timestamp = String(headers['webhook-timestamp'] ?? '');
  if (!id || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return String(headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'))
    .some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

/**
 * Reviewers' webhook: a real HTTP receiver that is down for the first delivery (503) and checks every signature.
 * The edit reaching AWAITING_APPROVAL must arrive, signed, after a retry, with the same message id both times.
 */
describe('reviewers webhook', () => {
  let t: TestApp;
  let server: Server;
  const received: Received[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        // Down on the first delivery; afterwards it accepts only correctly signed messages.
        const answered = received.length === 0 ? 503 : verified(req.headers, body) ? 204 : 401;
        received.push({ headers: req.headers, body, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await TestApp.start('postgres', {
      CHANNEL_POLICY_FILE: 'test/fixtures/policies/text-gates.yaml',
      REVIEW_WEBHOOK_URL: `http://127.0.0.1:${port}/sealgate/reviews`,
      REVIEW_WEBHOOK_SECRET: SECRET,
      REVIEW_WEBHOOK_BACKOFF_MS: '300',
    });
    await t.gql(
      t.adminToken,
      'mutation { createChannel(input: { name: "desk", baseModel: "default" }) { id } }',
    );
  });
  afterAll(async () => {
    await t.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  it('delivers a signed notice of each pending review, retrying while the receiver is down', async () => {
    const engineer = await t.principal(Role.ml_engineer);
    const auditor = await t.principal(Role.auditor);
    const edit = benignImplications()[0];
    const passage = heldoutPassages().find((p) => p.id === edit.source)!;
    const source = await t.gql<{ addKnowledgeSource: { id: string } }>(
      engineer.token,
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      { input: { title: passage.title, passage: passage.passage, questions: questionsInput(passage) } },
    );
    const proposed = await t.gql<{ proposeSelfEdit: { id: string; contentSha256: string } }>(
      engineer.token,
      'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id contentSha256 } }',
      {
        input: {
          channel: 'desk',
          knowledgeSourceId: source.data!.addKnowledgeSource.id,
          kind: 'implications',
          content: edit.lines.join('\n'),
        },
      },
    );
    const { id, contentSha256 } = proposed.data!.proposeSelfEdit;
    await waitForStatus(t, id, [SelfEditStatus.AWAITING_APPROVAL], 300_000);

    const deadline = Date.now() + 30_000;
    while (!received.some((r) => r.answered === 204) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(received.map((r) => r.answered)).toEqual([503, 204]);
    const [first, second] = received;
    expect(first.headers['webhook-id']).toBe(second.headers['webhook-id']);
    expect(first.body).toBe(second.body);
    expect(verified(first.headers, first.body)).toBe(true);
    expect(verified(second.headers, second.body.replace('desk', 'dusk'))).toBe(false);
    expect(second.headers['content-type']).toBe('application/json');
    expect(JSON.parse(second.body)).toEqual({
      type: 'self_edit.awaiting_approval',
      timestamp: expect.any(String),
      data: {
        selfEditId: id,
        channel: 'desk',
        pipelineRun: 1,
        status: 'AWAITING_APPROVAL',
        kind: 'implications',
        contentSha256,
        knowledgeSourceId: source.data!.addKnowledgeSource.id,
        proposedById: engineer.id,
      },
    });

    const events = await t.gql<{ auditEvents: { action: string; afterJson: string }[] }>(
      auditor.token,
      `{ auditEvents(limit: 500, subjectId: "${id}") { action afterJson } }`,
    );
    const delivered = events.data!.auditEvents.filter((e) => e.action === 'review.webhook_delivered');
    expect(delivered.map((e) => JSON.parse(e.afterJson) as unknown)).toEqual([
      { webhookId: second.headers['webhook-id'], status: 204 },
    ]);
    // It went through the outbox, written with the status change.
    const row = await t.get(WebhookOutboxRepository).findById(String(second.headers['webhook-id']));
    expect(row).toMatchObject({ selfEditId: id, body: second.body, queuedAt: expect.any(Date) });
  }, 360_000);

  it('delivers a message that a crash kept from the queue: the relay queues what the outbox holds', async () => {
    // What a crash right after the commit leaves: the message is in the outbox, its delivery job never queued.
    const selfEditId = randomUUID();
    const body = JSON.stringify({ type: 'self_edit.awaiting_approval', data: { selfEditId } });
    const outbox = t.get(WebhookOutboxRepository);
    await t.get(DataSource).transaction((manager) =>
      outbox.add(manager, {
        id: `msg_${selfEditId}.1`,
        selfEditId,
        jobId: `review-webhook.${selfEditId}.1`,
        body,
        createdAt: new Date(),
        queuedAt: null,
      }),
    );
    const webhook = t.get(ReviewWebhook);
    expect(await webhook.relay()).toEqual({ queued: 1 });
    const deadline = Date.now() + 30_000;
    const arrived = () => received.find((r) => r.headers['webhook-id'] === `msg_${selfEditId}.1`);
    while (!arrived() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(arrived()).toMatchObject({ body, answered: 204 });
    expect((await outbox.findById(`msg_${selfEditId}.1`))?.queuedAt).toEqual(expect.any(Date));
    expect(await webhook.relay()).toEqual({ queued: 0 });
  }, 60_000);
});
