import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { z } from 'zod';
import { Actor, systemActor } from 'src/common/actor';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AuditAction } from 'src/audit/audit-action';
import { ChannelsService } from 'src/channels/channels.service';
import { ServingStackService } from 'src/adapter-versions/serving-stack.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { JobHandler } from 'src/queues/job-handler.decorator';
import { JobName, SealRoundJob } from 'src/queues/queue-names';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { RoundExit, SealRoundRunner } from 'src/seal/rounds/seal-round-runner';
import { LIVE_ROUND_STATUSES, SealRoundResult, SealRoundStatus } from 'src/seal/rounds/seal-round.types';
import { SealRoundStates } from 'src/seal/rounds/seal-round-states';
import { SelfEditKind, SelfEditOrigin } from 'src/self-edits/self-edit.types';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

const S = SealRoundStatus;

/** The summary line of gpu/sealgate_gpu/seal/round.py. */
const resultSchema = z.object({
  round: z.number().int(),
  passages: z.number().int(),
  k: z.number().int(),
  meanReward: z.number(),
  meanBestReward: z.number(),
  kept: z.number().int().min(1),
  generatorLoss: z.number().nullable(),
  keptSelfEdits: z.array(z.object({ passageId: z.string(), text: z.string(), reward: z.number() })).min(1),
  adapterDir: z.string().min(1),
  device: z.string().optional(),
});

/** The round's own exit codes (round.py): bad input, and no self-edit improved any passage. */
const EXIT_BAD_INPUT = 2;
const EXIT_NOTHING_KEPT = 3;

export type SealRoundOutcome =
  | { outcome: 'skipped'; status: SealRoundStatus }
  | { outcome: 'cancelled' }
  | { outcome: 'failed'; reason: string }
  | { outcome: 'succeeded'; selfEditId: string };

/** Thrown when the round's row stopped being RUNNING under us: it was cancelled. */
class RoundCancelled extends Error {}

/**
 * Worker side of a ReST-EM round: writes the passages file into DATA_DIR/seal-rounds/<id>/, runs the Python round
 * there, keeps the row's progress current (and tells subscribers), and on success proposes the generator update
 * as a `generator` self-edit in the same transaction that marks the round SUCCEEDED. A retry (worker restart,
 * crash) runs the same command in the same folder, so the Python resumes from its checkpoint; a cancelled round
 * is never run again.
 */
@Injectable()
export class SealRoundJobs implements OnModuleDestroy {
  private readonly logger = new Logger(SealRoundJobs.name);
  private readonly actor: Actor = systemActor('seal-round');
  private readonly runner = new SealRoundRunner();
  /** Running rounds' children, stopped when the worker shuts down (the job is retried and resumes). */
  private readonly running = new Map<string, AbortController>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly states: SealRoundStates,
    private readonly stacks: ServingStackService,
    private readonly channels: ChannelsService,
    private readonly knowledge: KnowledgeService,
    private readonly selfEdits: SelfEditsService,
  ) {}

  onModuleDestroy(): void {
    for (const controller of this.running.values()) controller.abort(new Error('worker shutting down'));
  }

  /** The folder of a round's files: passages.jsonl and the Python's work folder. */
  folderOf(roundId: string): string {
    return resolve(this.config.DATA_DIR, 'seal-rounds', roundId);
  }

  @JobHandler(JobName.RUN_SEAL_ROUND)
  async run(job: SealRoundJob): Promise<SealRoundOutcome> {
    let round = await this.states.get(job.roundId);
    if (!LIVE_ROUND_STATUSES.includes(round.status)) return { outcome: 'skipped', status: round.status };
    round = await this.markRunning(round);
    const folder = this.folderOf(round.id);
    const passagesFile = join(folder, 'passages.jsonl');
    mkdirSync(folder, { recursive: true });
    writeFileSync(passagesFile, await this.passagesJsonl(round));
    // The channel's model when the round first started: base + the stack up to that head, base first.
    const adapterFolders = round.parentAdapterId
      ? (await this.stacks.resolve({ adapterVersionId: round.parentAdapterId })).folders
      : [];

    const controller = new AbortController();
    this.running.set(round.id, controller);
    const cancel = () => controller.abort(new RoundCancelled());
    const stopListening = await this.states.notifications.onCancel(round.id, cancel);
    let exit: RoundExit;
    let progressWrites = Promise.resolve();
    try {
      exit = await this.runner.run(
        {
          modelDir: this.config.MODEL_DIR,
          adapterFolders,
          passagesFile,
          workDir: join(folder, 'work'),
          k: round.settings.k,
          seed: round.settings.seed,
        },
        {
          signal: controller.signal,
          onProgress: (progress) => {
            // One write at a time, in order: a later step is never overwritten by an earlier one.
            progressWrites = progressWrites
              .then(() => this.states.move(this.actor, round.id, [S.RUNNING], { progress }, null))
              .then((stillRunning) => (stillRunning ? this.states.changed(round.id) : cancel()))
              .catch((err: Error) => this.logger.warn({ err }, 'round progress not stored'));
          },
        },
      );
    } finally {
      stopListening();
      this.running.delete(round.id);
      await progressWrites;
    }
    if (controller.signal.aborted) {
      if (controller.signal.reason instanceof RoundCancelled) return { outcome: 'cancelled' };
      throw new Error(
        `round ${round.id} stopped: the worker is shutting down; it resumes on the next attempt`,
      );
    }
    return this.finish(round, exit);
  }

  /** Called when the job has spent its last attempt: the round is FAILED with the reason. */
  async markFailed(job: SealRoundJob, reason: string): Promise<void> {
    await this.fail(await this.states.get(job.roundId), `infrastructure: ${reason}`.slice(0, 2000));
  }

  private async finish(round: SealRoundEntity, exit: RoundExit): Promise<SealRoundOutcome> {
    const tail = exit.stderrTail.slice(-5).join('\n');
    if (exit.code === EXIT_NOTHING_KEPT) {
      return this.fail(
        round,
        `No self-edit improved any passage (k=${round.settings.k} per passage): the generator has nothing to ` +
          'learn from, so nothing was proposed. Try more passages, a larger k or another seed.',
      );
    }
    if (exit.code === EXIT_BAD_INPUT) return this.fail(round, `The round refused its input: ${tail}`);
    if (exit.code !== 0) {
      // Anything else is the machine's fault (killed, out of memory, a crash): BullMQ retries and it resumes.
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      throw new Error(`the round ${how}: ${tail}`);
    }
    const parsed = resultSchema.safeParse(JSON.parse(exit.lastLine ?? 'null'));
    if (!parsed.success)
      throw new Error(`the round's summary line is not valid: ${exit.lastLine?.slice(0, 300)}`);
    return this.succeed(round, parsed.data);
  }

  /** Proposes the generator update and marks the round SUCCEEDED in one transaction (or neither). */
  private async succeed(round: SealRoundEntity, result: SealRoundResult): Promise<SealRoundOutcome> {
    const channel = await this.channelName(round);
    const proposer: Actor = { id: round.startedById, name: `seal-round:${round.id}` };
    try {
      const edit = await this.selfEdits.proposeAs(
        proposer,
        {
          channel,
          kind: SelfEditKind.generator,
          // What the generator was taught, so the screening gates read it like any self-edit.
          content: result.keptSelfEdits.map((e) => e.text.trim()).join('\n'),
        },
        SelfEditOrigin.GENERATED,
        async (manager, edit) => {
          const finishedAt = new Date();
          const changes = { status: S.SUCCEEDED, result, selfEditId: edit.id, finishedAt, error: null };
          const event = {
            action: AuditAction.SEAL_ROUND_FINISHED,
            before: { status: S.RUNNING },
            after: {
              status: S.SUCCEEDED,
              selfEditId: edit.id,
              kept: result.kept,
              meanReward: result.meanReward,
              meanBestReward: result.meanBestReward,
            },
          };
          if (!(await this.states.move(this.actor, round.id, [S.RUNNING], changes, event, manager))) {
            throw new RoundCancelled();
          }
        },
      );
      await this.states.changed(round.id);
      this.logger.log({ roundId: round.id, selfEditId: edit.id, kept: result.kept }, 'round succeeded');
      return { outcome: 'succeeded', selfEditId: edit.id };
    } catch (err) {
      if (err instanceof RoundCancelled) return { outcome: 'cancelled' };
      throw err;
    }
  }

  private async fail(round: SealRoundEntity, reason: string): Promise<SealRoundOutcome> {
    const changes = { status: S.FAILED, error: reason, finishedAt: new Date() };
    const event = {
      action: AuditAction.SEAL_ROUND_FINISHED,
      before: { status: round.status },
      after: { status: S.FAILED, reason },
    };
    if (!(await this.states.move(this.actor, round.id, LIVE_ROUND_STATUSES, changes, event))) {
      return { outcome: 'skipped', status: (await this.states.get(round.id)).status };
    }
    await this.states.changed(round.id);
    return { outcome: 'failed', reason };
  }

  /**
   * QUEUED -> RUNNING on the first attempt, fixing the stack the round runs on (the channel head now); a retry
   * keeps that stack, so the resumed round continues on the same model.
   */
  private async markRunning(round: SealRoundEntity): Promise<SealRoundEntity> {
    const first = round.startedAt === null;
    const parentAdapterId = first
      ? (await this.stacks.resolve({ channel: await this.channelName(round) })).headAdapterId
      : round.parentAdapterId;
    const changes = {
      status: S.RUNNING,
      parentAdapterId,
      attempts: round.attempts + 1,
      startedAt: round.startedAt ?? new Date(),
    };
    if (!(await this.states.move(this.actor, round.id, LIVE_ROUND_STATUSES, changes, null))) {
      throw new Error(`round ${round.id} changed while starting`);
    }
    await this.states.changed(round.id);
    return { ...round, ...changes };
  }

  private async passagesJsonl(round: SealRoundEntity): Promise<string> {
    const sources = await Promise.all(round.settings.knowledgeSourceIds.map((id) => this.knowledge.get(id)));
    return sources
      .map((s) =>
        JSON.stringify({
          id: s.id,
          title: s.title,
          passage: s.passage,
          questions: (s.questions ?? []).map((q) => ({
            question: q.question,
            answer: q.answer,
            aliases: q.aliases ?? [],
          })),
        }),
      )
      .map((line) => `${line}\n`)
      .join('');
  }

  private async channelName(round: SealRoundEntity): Promise<string> {
    return (await this.channels.get(round.channelId)).name;
  }
}
