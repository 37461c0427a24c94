import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { startApp, StartedApp } from 'src/app/bootstrap';
import { systemActor } from 'src/common/actor';
import { AppConfig } from 'src/config/app-config';
import { PrincipalsService } from 'src/auth/principals.service';
import { QueueName } from 'src/queues/queue-names';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';
import { freshPostgresSchema, TEST_REDIS_URL, TestEnv } from 'test/support/databases';
import { testConfig } from 'test/support/test-app';

const S = SelfEditStatus;

/**
 * Issue 17, item 4: kill -9 during a stage, restart, kill again once the stage restarts. The worker that dies is a
 * bare BullMQ worker that takes the stage's job and vanishes (its lock lapses, as after kill -9); BullMQ's own
 * stalled check (a short interval) puts the job back once, and after the second crash marks it to fail
 * ("job stalled more than allowable limit", attemptsMade 1). The gateway runs as it is deployed: an API process
 * and a worker process that is (re)started on the same database and Redis.
 */
describe('a pipeline stage that crashes twice', () => {
  let env: TestEnv;
  let config: AppConfig;
  let api: StartedApp;
  let worker: StartedApp | undefined;
  let admin: string;
  let queue: Queue;
  /** Bare BullMQ workers the test starts; closed even when a check fails, so that Jest can exit. */
  const bare: Worker[] = [];
  const bareWorker = (...args: ConstructorParameters<typeof Worker>) => {
    const w = new Worker(...args);
    bare.push(w);
    return w;
  };
  const connection = { url: TEST_REDIS_URL, maxRetriesPerRequest: null };

  beforeAll(async () => {
    env = await freshPostgresSchema();
    config = testConfig(env);
    api = await startApp('api', config);
    admin = (await api.app.get(PrincipalsService).bootstrapAdmin(systemActor('test'), 'admin')).token;
    await gql('mutation { createChannel(input: { name: "crash", baseModel: "default" }) { id } }');
    queue = new Queue(QueueName.pipeline, { connection, prefix: config.QUEUE_PREFIX });
  });

  afterAll(async () => {
    await Promise.all(bare.map((w) => w.close(true)));
    await worker?.stop();
    await queue.close();
    await api.stop();
    await env.dispose();
  });

  async function gql<T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) {
    const res = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  }

  const propose = async (content: string) =>
    (
      await gql<{ proposeSelfEdit: { id: string } }>(
        'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
        { input: { channel: 'crash', kind: 'manual', content } },
      )
    ).data!.proposeSelfEdit.id;

  const retry = (id: string) =>
    gql<{ retrySelfEdit: { status: string; pipelineRun: number } }>(
      'mutation($id: ID!) { retrySelfEdit(id: $id) { status pipelineRun } }',
      { id },
    );

  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /**
   * A worker takes the edit's screening job, moves the edit into SCREENING as the stage does, and dies without a
   * word; BullMQ's stalled check then finds the lapsed lock.
   */
  async function crashDuringScreening(editId: string): Promise<void> {
    const dying = bareWorker(QueueName.pipeline, null, {
      connection,
      prefix: config.QUEUE_PREFIX,
      autorun: false,
      lockDuration: 500,
    });
    const job = await dying.getNextJob(randomUUID());
    expect(job?.id).toBe(`${editId}.1.screen`);
    const edits = api.app.get(SelfEditsService);
    if ((await edits.get(editId)).status === S.PROPOSED)
      await edits.transition(systemActor('pipeline'), editId, S.SCREENING);
    await dying.close(true);
    const checker = bareWorker(QueueName.pipeline, null, {
      connection,
      prefix: config.QUEUE_PREFIX,
      autorun: false,
      stalledInterval: 200,
    });
    await checker.startStalledCheckTimer();
    await until('the stalled check', async () => (await queue.getJobState(job!.id!)) === 'waiting');
    await checker.close();
  }

  /** Two crashes, then the gateway as it was: the job fails for good as stalled and nothing moves the edit. */
  async function stuckByTwoCrashes(content: string): Promise<string> {
    const id = await propose(content);
    await crashDuringScreening(id);
    await crashDuringScreening(id);
    const old = bareWorker(QueueName.pipeline, () => Promise.resolve(), {
      connection,
      prefix: config.QUEUE_PREFIX,
    });
    await until(
      'the stalled job to fail',
      async () => (await queue.getJobState(`${id}.1.screen`)) === 'failed',
    );
    await old.close();
    const failedJob = await queue.getJob(`${id}.1.screen`);
    expect(failedJob?.attemptsMade).toBe(1);
    expect(failedJob?.failedReason).toBe(
      new UnrecoverableError('job stalled more than allowable limit').message,
    );
    expect((await api.app.get(SelfEditsService).get(id)).status).toBe(S.SCREENING);
    return id;
  }

  it('ends FAILED with a retryable reason, through the worker or through recovery, and can be retried', async () => {
    // Left stuck by two crashes: one to retry before any worker restarts, one for the next worker start to find.
    const retriedAtOnce = await stuckByTwoCrashes('Quay has a harbour.');
    const stuck = await stuckByTwoCrashes('Quay is a fishing town.');
    // Crashed twice just now: the restarted worker finds its job marked to fail.
    const crashed = await propose('Quay has a lighthouse.');
    await crashDuringScreening(crashed);
    await crashDuringScreening(crashed);

    const atOnce = await retry(retriedAtOnce);
    expect(atOnce.errors).toBeUndefined();
    expect(atOnce.data!.retrySelfEdit).toEqual({ status: S.PROPOSED, pipelineRun: 2 });

    worker = await startApp('worker', config);
    const edits = api.app.get(SelfEditsService);
    for (const id of [stuck, crashed]) {
      await until(`${id} to end FAILED`, async () => (await edits.get(id)).status === S.FAILED);
      expect((await edits.get(id)).statusReason).toMatch(/^infrastructure: screen-self-edit: .*stalled/);
      const again = await retry(id);
      expect(again.errors).toBeUndefined();
      expect(again.data!.retrySelfEdit).toEqual({ status: S.PROPOSED, pipelineRun: 2 });
    }
    // The new runs' jobs are new: the worker takes them.
    await until('the retried runs to start', async () =>
      (await Promise.all([retriedAtOnce, stuck, crashed].map((id) => edits.get(id)))).every(
        (e) => e.status !== S.PROPOSED,
      ),
    );
  }, 60_000);
});
