import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AuditAction } from 'src/audit/audit-action';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelsService } from 'src/channels/channels.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { JobsService } from 'src/queues/jobs.service';
import { JobName, queueOfJob } from 'src/queues/queue-names';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { LIVE_ROUND_STATUSES, SealRoundStatus } from 'src/seal/rounds/seal-round.types';
import { SealRoundError, SealRoundErrorCode } from 'src/seal/rounds/seal-rounds.errors';
import { SealRoundStates } from 'src/seal/rounds/seal-round-states';
import { SealRoundFilter } from 'src/seal/rounds/seal-rounds.repository';

export interface StartSealRound {
  channel: string;
  knowledgeSourceIds: string[];
  k: number;
  seed: number;
}

/** Attempts of a round's job: a worker crash or restart resumes the round from its checkpoint. */
export const SEAL_ROUND_ATTEMPTS = 3;

/**
 * ReST-EM rounds as users drive them: started on a channel's passages, watched, cancelled. The work runs on the
 * `seal` queue (SealRoundJobs); the generator update it produces is proposed as a self-edit, never applied here.
 */
@Injectable()
export class SealRoundsService {
  private readonly logger = new Logger(SealRoundsService.name);

  constructor(
    private readonly states: SealRoundStates,
    private readonly channels: ChannelsService,
    private readonly knowledge: KnowledgeService,
    private readonly jobs: JobsService,
  ) {}

  get(id: string): Promise<SealRoundEntity> {
    return this.states.get(id);
  }

  page(filter: SealRoundFilter, limit: number, offset: number): Promise<SealRoundEntity[]> {
    return this.states.page(filter, limit, offset);
  }

  /** Checks every passage (each must have questions: the reward is measured on them), stores and queues. */
  async start(ctx: AuthContext, input: StartSealRound): Promise<SealRoundEntity> {
    ctx.assertCan(Action.create, Subject.SealRound, { channel: input.channel });
    if (!ctx.actor.id) throw new Error('A round must be started by a principal');
    const startedById = ctx.actor.id;
    const channel = await this.channels.getByName(input.channel);
    const ids = input.knowledgeSourceIds;
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) {
      throw new SealRoundError(
        SealRoundErrorCode.DUPLICATE_PASSAGE,
        `Knowledge source ${duplicate} is named twice`,
        { knowledgeSourceId: duplicate },
      );
    }
    const sources = await Promise.all(ids.map((id) => this.knowledge.get(id)));
    const withoutQuestions = sources.filter((s) => !s.questions?.length).map((s) => s.id);
    if (withoutQuestions.length) {
      throw new SealRoundError(
        SealRoundErrorCode.PASSAGE_WITHOUT_QUESTIONS,
        `A round rewards each self-edit by the accuracy gain on its passage's questions; these knowledge ` +
          `sources have none: ${withoutQuestions.join(', ')}`,
        { knowledgeSourceIds: withoutQuestions },
      );
    }
    const now = new Date();
    const round = await this.states.insert(
      ctx.actor,
      Object.assign(new SealRoundEntity(), {
        id: randomUUID(),
        channelId: channel.id,
        parentAdapterId: null,
        status: SealRoundStatus.QUEUED,
        settings: { knowledgeSourceIds: ids, k: input.k, seed: input.seed },
        progress: null,
        result: null,
        error: null,
        selfEditId: null,
        startedById,
        attempts: 0,
        createdAt: now,
        updatedAt: now,
        startedAt: null,
        finishedAt: null,
      }),
      {
        action: AuditAction.SEAL_ROUND_STARTED,
        after: {
          status: SealRoundStatus.QUEUED,
          channel: channel.name,
          knowledgeSourceIds: ids,
          k: input.k,
          seed: input.seed,
        },
      },
    );
    try {
      await this.jobs.enqueue(
        JobName.RUN_SEAL_ROUND,
        { roundId: round.id },
        { jobId: round.id, attempts: SEAL_ROUND_ATTEMPTS, backoff: { type: 'exponential', delay: 5_000 } },
      );
    } catch (err) {
      this.logger.error({ err, roundId: round.id }, 'could not queue the round');
      const changes = {
        status: SealRoundStatus.FAILED,
        error: 'could not be queued (Redis unavailable); start it again',
        finishedAt: new Date(),
      };
      await this.states.move(ctx.actor, round.id, [SealRoundStatus.QUEUED], changes, null);
      throw new SealRoundError(SealRoundErrorCode.NOT_QUEUED, `Round ${round.id} could not be queued`);
    }
    return round;
  }

  /**
   * Stops a QUEUED or RUNNING round for good: the worker kills its child process, and a cancelled round is
   * never resumed (its job finds it CANCELLED and does nothing).
   */
  async cancel(ctx: AuthContext, id: string): Promise<SealRoundEntity> {
    const round = await this.get(id);
    ctx.assertCan(Action.cancel, Subject.SealRound, round);
    const changes = {
      status: SealRoundStatus.CANCELLED,
      error: `cancelled by ${ctx.actor.name}`,
      finishedAt: new Date(),
    };
    const cancelled = await this.states.move(ctx.actor, id, LIVE_ROUND_STATUSES, changes, {
      action: AuditAction.SEAL_ROUND_CANCELLED,
      before: { status: round.status, progress: round.progress },
      after: { status: SealRoundStatus.CANCELLED },
    });
    if (!cancelled) {
      const now = await this.get(id);
      throw new SealRoundError(
        SealRoundErrorCode.ROUND_NOT_LIVE,
        `Only a QUEUED or RUNNING round can be cancelled; this one is ${now.status}`,
        { status: now.status },
      );
    }
    // Best effort: the worker also notices at its next progress line, and a queued job finds the round CANCELLED.
    await this.states.notifications
      .publishCancel(id)
      .catch((err: Error) => this.logger.warn({ err }, 'cancel not sent'));
    const now = await this.get(id);
    await this.states.notifications.publishChanged(now).catch(() => undefined);
    // A job still waiting is taken off the queue; a running one is locked and ends when its child is gone.
    await this.jobs
      .queue(queueOfJob[JobName.RUN_SEAL_ROUND])
      .remove(id)
      .catch(() => undefined);
    return now;
  }
}
