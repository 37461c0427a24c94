import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { startApp, StartedApp } from 'src/app/bootstrap';
import { PrincipalsService } from 'src/auth/principals.service';
import { systemActor } from 'src/common/actor';
import { AppConfig } from 'src/config/app-config';
import { sourceBootstrap } from 'src/inference/inference-thread';
import { QueueName } from 'src/queues/queue-names';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { freshPostgresSchema, TEST_REDIS_URL, TestEnv } from 'test/support/databases';
import { waitForStatus } from 'test/support/self-edit-status';
import { testConfig } from 'test/support/test-app';

const ROOT = join(__dirname, '..', '..');
const GRACE_SECONDS = 60;
const PASSAGE =
  'Lorvik Harbour was built in 1921 by the engineer Tamsin Orrel to serve the herring fleet of Quay.';

/**
 * Issue 18, item 5: a worker process that gets SIGTERM in the middle of a training job lets the job finish or
 * hands it back, and exits within SHUTDOWN_GRACE_SECONDS; the edit is not lost and ends where a run ends. The
 * worker is a real process (`sealgate worker`, run from the sources); the API runs in this one.
 */
describe('SIGTERM during a training job', () => {
  let env: TestEnv;
  let config: AppConfig;
  let api: StartedApp;
  let after: StartedApp | undefined;
  let worker: ChildProcess | undefined;
  let admin: string;
  const work = mkdtempSync(join(tmpdir(), 'sealgate-shutdown-'));

  beforeAll(async () => {
    env = await freshPostgresSchema();
    config = testConfig(env, {
      DATA_DIR: join(work, 'data'),
      CHANNEL_POLICY_FILE: 'test/fixtures/policies/text-gates.yaml',
      SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS),
    });
    api = await startApp('api', config);
    admin = (await api.app.get(PrincipalsService).bootstrapAdmin(systemActor('test'), 'admin')).token;
    await gql('mutation { createChannel(input: { name: "staging", baseModel: "default" }) { id } }');
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await after?.stop();
    await api.stop();
    await env.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: T; errors?: { message: string }[] };
  }

  /** `sealgate worker` from the sources, with this suite's configuration. */
  function startWorkerProcess(): ChildProcess {
    const entry = join(work, 'worker.js');
    writeFileSync(entry, sourceBootstrap(join(ROOT, 'src', 'main.ts'), ROOT));
    const envOf: NodeJS.ProcessEnv = {
      ...process.env,
      ...Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)])),
      LOG_LEVEL: 'warn',
      // The entry file lies outside the checkout: its require of the SWC compiler resolves from here.
      NODE_PATH: join(ROOT, 'node_modules'),
    };
    return spawn(process.execPath, [entry, 'worker'], { cwd: ROOT, env: envOf, stdio: 'ignore' });
  }

  it('finishes or hands back the job, and the process exits within the grace period', async () => {
    const source = await gql<{ addKnowledgeSource: { id: string } }>(
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      { input: { title: 'Lorvik Harbour', passage: PASSAGE } },
    );
    const proposed = await gql<{ proposeSelfEdit: { id: string } }>(
      'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
      {
        input: {
          channel: 'staging',
          knowledgeSourceId: source.data!.addKnowledgeSource.id,
          kind: 'implications',
          content: 'Lorvik Harbour was built in 1921.\nTamsin Orrel built Lorvik Harbour.',
        },
      },
    );
    const id = proposed.data!.proposeSelfEdit.id;

    worker = startWorkerProcess();
    const exited = new Promise<{ code: number | null; at: number }>((done) =>
      worker!.once('exit', (code) => done({ code, at: Date.now() })),
    );
    const queue = new Queue(QueueName.pipeline, {
      connection: { url: TEST_REDIS_URL },
      prefix: config.QUEUE_PREFIX,
    });
    try {
      // The training job is running in the worker process.
      const trainJob = `${id}.1.train`;
      for (const deadline = Date.now() + 120_000; (await queue.getJobState(trainJob)) !== 'active';) {
        if (Date.now() > deadline) throw new Error('the training job never started');
        await new Promise((r) => setTimeout(r, 50));
      }
      const signalled = Date.now();
      worker.kill('SIGTERM');
      const { code, at } = await exited;
      expect(code).toBe(0);
      expect(at - signalled).toBeLessThan(GRACE_SECONDS * 1000);

      // Finished (the edit moved on) or handed back (the job waits for the next worker); never failed or lost.
      const state = await queue.getJobState(trainJob);
      expect(['completed', 'waiting', 'delayed', 'prioritized']).toContain(state);
      const job = (await queue.getJob(trainJob))!;
      expect(job.attemptsMade).toBeLessThanOrEqual(1);
    } finally {
      await queue.close();
    }

    // The next worker takes it from there: the run ends where runs end, with no step lost.
    after = await startApp('worker', config);
    const ended = await waitForStatus(
      { get: (type) => api.app.get(type) },
      id,
      [SelfEditStatus.AWAITING_APPROVAL, SelfEditStatus.REJECTED_BY_GATE],
      120_000,
    );
    expect(ended.pipelineRun).toBe(1);
  }, 360_000);
});
