import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobsService } from 'src/queues/jobs.service';
import { QueueName } from 'src/queues/queue-names';
import { TestApp } from 'test/support/test-app';

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; state?: string; error?: string; device?: string; torch?: string }>;
}

/** Starts an app whose trainer runs `python` (SEALGATE_PYTHON is read when the worker's trainer is made). */
async function appWithPython(
  python: string | undefined,
  overrides: NodeJS.ProcessEnv = {},
): Promise<TestApp> {
  const before = process.env.SEALGATE_PYTHON;
  if (python) process.env.SEALGATE_PYTHON = python;
  try {
    return await TestApp.start('postgres', overrides);
  } finally {
    if (before === undefined) delete process.env.SEALGATE_PYTHON;
    else process.env.SEALGATE_PYTHON = before;
  }
}

/** Polls /readyz until the trainer check has settled (it answers "starting" while torch imports). */
async function readiness(t: TestApp): Promise<{ status: number; body: Readiness }> {
  for (const deadline = Date.now() + 90_000; ;) {
    const res = await fetch(`${t.started.url}/readyz`);
    const body = (await res.json()) as Readiness;
    if (body.checks.trainer?.state !== 'starting' || Date.now() > deadline) {
      return { status: res.status, body };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** /readyz tells the truth about training: a worker whose trainer cannot start is not ready, and says why. */
describe('readiness of a worker reports its trainer', () => {
  const work = mkdtempSync(join(tmpdir(), 'sealgate-readiness-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('is ready with a trainer that starts, naming its torch and device', async () => {
    const t = await appWithPython(undefined);
    try {
      const { status, body } = await readiness(t);
      expect(status).toBe(200);
      expect(body.checks.trainer).toMatchObject({ ok: true, device: 'cpu', torch: expect.any(String) });
    } finally {
      await t.stop();
    }
  }, 120_000);

  it('is not ready when the trainer cannot start (a Python without torch), with a short reason; training waits', async () => {
    const torchless = join(work, 'torchless-python');
    writeFileSync(
      torchless,
      '#!/bin/sh\necho "ModuleNotFoundError: No module named \'torch\'" >&2\nexit 1\n',
      { mode: 0o755 },
    );
    const t = await appWithPython(torchless, {
      CHANNEL_POLICY_FILE: 'test/fixtures/policies/text-gates.yaml',
    });
    try {
      const { status, body } = await readiness(t);
      expect(status).toBe(503);
      expect(body.status).toBe('not_ready');
      expect(body.checks.trainer).toMatchObject({
        ok: false,
        error: 'trainer exited with code 1; its output is in the log',
      });
      expect(body.checks.model.ok).toBe(true);

      // An edit that passes screening waits for a trainer, says why, and keeps its attempts.
      await t.gql(
        t.adminToken,
        'mutation { createChannel(input: { name: "notorch", baseModel: "default" }) { id } }',
      );
      const source = await t.gql<{ addKnowledgeSource: { id: string } }>(
        t.adminToken,
        'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
        {
          input: {
            title: 'Lorvik Harbour',
            passage: 'Lorvik Harbour was built in 1921 by the engineer Tamsin Orrel.',
          },
        },
      );
      const proposed = await t.gql<{ proposeSelfEdit: { id: string } }>(
        t.adminToken,
        'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
        {
          input: {
            channel: 'notorch',
            knowledgeSourceId: source.data!.addKnowledgeSource.id,
            kind: 'implications',
            content: 'Lorvik Harbour was built in 1921.\nTamsin Orrel built Lorvik Harbour.',
          },
        },
      );
      const id = proposed.data!.proposeSelfEdit.id;
      const queue = t.get(JobsService).queue(QueueName.pipeline);
      let edit: { status: string; statusReason: string | null } | undefined;
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        const read = await t.gql<{ selfEdit: typeof edit }>(
          t.adminToken,
          'query($id: ID!) { selfEdit(id: $id) { status statusReason } }',
          { id },
        );
        edit = read.data!.selfEdit;
        if (
          edit?.statusReason ||
          (edit?.status !== 'TRAINING' && edit?.status !== 'PROPOSED' && edit?.status !== 'SCREENING')
        )
          break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(edit).toEqual({
        status: 'TRAINING',
        statusReason: 'waiting for a trainer: trainer exited with code 1; its output is in the log',
      });
      const job = (await queue.getJob(`${id}.1.train`))!;
      expect(await job.getState()).toBe('delayed');
      expect(job.attemptsMade).toBe(0);
    } finally {
      await t.stop();
    }
  }, 120_000);
});
