import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { CommonError } from 'src/common/errors/domain-error';
import { sha256Hex } from 'src/common/sha256';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelsService } from 'src/channels/channels.service';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { PipelineLauncher } from 'src/self-edits/pipeline-launcher';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { canTransition, SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditKind, SelfEditOrigin, TrainingHyperparameters } from 'src/self-edits/self-edit.types';
import { SelfEditError, SelfEditErrorCode } from 'src/self-edits/self-edits.errors';
import { SelfEditFilter, SelfEditsRepository } from 'src/self-edits/self-edits.repository';

export interface NewSelfEdit {
  channel: string;
  knowledgeSourceId?: string | null;
  kind: SelfEditKind;
  content: string;
  hyperparameters?: TrainingHyperparameters | null;
}

/** The statuses in which an edit is inside a pipeline run. */
const IN_PIPELINE: readonly SelfEditStatus[] = [
  SelfEditStatus.PROPOSED,
  SelfEditStatus.SCREENING,
  SelfEditStatus.TRAINING,
  SelfEditStatus.EVALUATING,
];

@Injectable()
export class SelfEditsService {
  private readonly logger = new Logger(SelfEditsService.name);

  constructor(
    private readonly repository: SelfEditsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
    private readonly channels: ChannelsService,
    private readonly knowledge: KnowledgeService,
    private readonly pipeline: PipelineLauncher,
  ) {}

  async get(id: string): Promise<SelfEditEntity> {
    const edit = await this.repository.findById(id);
    if (!edit) throw CommonError.notFound('SelfEdit', id);
    return edit;
  }

  /** Every edit in one of `statuses`. */
  withStatus(...statuses: SelfEditStatus[]): Promise<SelfEditEntity[]> {
    return this.repository.withStatus(statuses);
  }

  page(filter: SelfEditFilter, limit: number, offset: number): Promise<SelfEditEntity[]> {
    return this.repository.page(filter, limit, offset);
  }

  async propose(ctx: AuthContext, input: NewSelfEdit): Promise<SelfEditEntity> {
    ctx.assertCan(Action.create, Subject.SelfEdit, input);
    if (input.kind === SelfEditKind.generator) {
      throw new SelfEditError(
        SelfEditErrorCode.GENERATOR_ONLY_FROM_ROUND,
        'A generator update is the outcome of a ReST-EM round: start one with startSealRound',
      );
    }
    return this.proposeAs(ctx.actor, input, SelfEditOrigin.HUMAN);
  }

  /**
   * Stores a proposed edit in PROPOSED; it reaches a model only through the gated lifecycle. Self-edits the
   * model generates itself (SEAL) come through here too, with origin GENERATED. `alongside` runs in the
   * transaction that stores the edit (e.g. linking it to the ReST-EM round it comes from).
   */
  async proposeAs(
    actor: Actor,
    input: NewSelfEdit,
    origin: SelfEditOrigin,
    alongside?: (manager: EntityManager, edit: SelfEditEntity) => Promise<void>,
  ): Promise<SelfEditEntity> {
    const edit = await this.store(actor, input, origin, alongside);
    await this.startPipeline(edit);
    return edit;
  }

  /**
   * Starts a new pipeline run of an edit whose last run FAILED for an infrastructure reason. Every gate runs
   * again from the start: nothing from the failed run counts.
   */
  async retry(ctx: AuthContext, id: string): Promise<SelfEditEntity> {
    let edit = await this.get(id);
    ctx.assertCan(Action.create, Subject.SelfEdit, edit);
    if (IN_PIPELINE.includes(edit.status)) edit = await this.endStuckRun(ctx.actor, edit);
    if (edit.status !== SelfEditStatus.FAILED) {
      throw new SelfEditError(
        SelfEditErrorCode.ILLEGAL_TRANSITION,
        `Only a FAILED self-edit, or one whose pipeline run has ended, can be retried; this one is ${edit.status}`,
        { from: edit.status, to: SelfEditStatus.PROPOSED },
      );
    }
    const again = await this.transition(ctx.actor, id, SelfEditStatus.PROPOSED, 'retry after failure');
    await this.startPipeline(again);
    return again;
  }

  /**
   * An edit inside the pipeline whose run can no longer move it (a job failed for good and nothing marked the
   * edit, or its jobs are gone) is stuck: it ends FAILED here, so that it can be retried at once rather than after
   * the next worker start. A run still queued or running is left alone.
   */
  private async endStuckRun(actor: Actor, edit: SelfEditEntity): Promise<SelfEditEntity> {
    const run = await this.pipeline.inspect(edit);
    if (run.state === 'queued') return edit;
    const reason = run.state === 'lost' ? 'its pipeline run is no longer queued' : run.reason;
    return this.transition(actor, edit.id, SelfEditStatus.FAILED, `infrastructure: ${reason}`.slice(0, 2000));
  }

  /**
   * The edit is stored before its run is queued; if queueing fails, it stays PROPOSED and the next worker start
   * queues it (PipelineRecovery), so a Redis outage loses no proposal.
   */
  private async startPipeline(edit: SelfEditEntity): Promise<void> {
    try {
      await this.pipeline.start(edit);
    } catch (err) {
      this.logger.error(
        { err, selfEditId: edit.id },
        'could not queue the pipeline run; a worker restart will',
      );
    }
  }

  private async store(
    actor: Actor,
    input: NewSelfEdit,
    origin: SelfEditOrigin,
    alongside?: (manager: EntityManager, edit: SelfEditEntity) => Promise<void>,
  ): Promise<SelfEditEntity> {
    if (!actor.id) throw new Error('A self-edit must be proposed by a principal');
    const proposedById = actor.id;
    // A generator update comes from several passages: its round names them.
    const fromOnePassage = input.kind !== SelfEditKind.manual && input.kind !== SelfEditKind.generator;
    if (fromOnePassage && !input.knowledgeSourceId) {
      throw new SelfEditError(
        SelfEditErrorCode.KNOWLEDGE_SOURCE_REQUIRED,
        `A ${input.kind} self-edit is derived from a passage: give knowledgeSourceId`,
      );
    }
    if (input.hyperparameters && input.kind !== SelfEditKind.structured) {
      throw new SelfEditError(
        SelfEditErrorCode.HYPERPARAMETERS_NOT_ALLOWED,
        'Only a structured self-edit names its own hyperparameters',
      );
    }
    const channel = await this.channels.getByName(input.channel);
    if (input.knowledgeSourceId) await this.knowledge.get(input.knowledgeSourceId);
    return this.transactions.run(async (manager) => {
      const now = new Date();
      const edit = await this.repository.insert(
        manager,
        Object.assign(new SelfEditEntity(), {
          id: randomUUID(),
          channelId: channel.id,
          knowledgeSourceId: input.knowledgeSourceId ?? null,
          kind: input.kind,
          origin,
          content: input.content,
          contentSha256: sha256Hex(input.content),
          hyperparameters: input.hyperparameters ?? null,
          status: SelfEditStatus.PROPOSED,
          statusReason: null,
          proposedById,
          pipelineRun: 1,
          createdAt: now,
          updatedAt: now,
          version: 1,
        }),
      );
      await this.audit.append(manager, actor, {
        action: AuditAction.SELF_EDIT_PROPOSED,
        subjectType: Subject.SelfEdit,
        subjectId: edit.id,
        after: {
          status: edit.status,
          channel: channel.name,
          kind: edit.kind,
          contentSha256: edit.contentSha256,
        },
      });
      await alongside?.(manager, edit);
      return edit;
    });
  }

  /**
   * The only way a self-edit changes status: checked against the lifecycle, conditional on the version read
   * (so two workers cannot both move the same edit), and recorded in the audit log in the same transaction.
   * `alongside` runs in that transaction too, before the move (e.g. storing the gate reports that justify it).
   */
  transition(
    actor: Actor,
    id: string,
    to: SelfEditStatus,
    reason: string | null = null,
    alongside?: (manager: EntityManager, edit: SelfEditEntity) => Promise<void>,
  ): Promise<SelfEditEntity> {
    return this.transactions.run((manager) => this.transitionIn(manager, actor, id, to, reason, alongside));
  }

  /** `transition` inside a transaction the caller already holds. */
  async transitionIn(
    manager: EntityManager,
    actor: Actor,
    id: string,
    to: SelfEditStatus,
    reason: string | null = null,
    alongside?: (manager: EntityManager, edit: SelfEditEntity) => Promise<void>,
  ): Promise<SelfEditEntity> {
    const edit = await this.repository.findById(id, manager);
    if (!edit) throw CommonError.notFound('SelfEdit', id);
    if (!canTransition(edit.status, to)) {
      throw new SelfEditError(
        SelfEditErrorCode.ILLEGAL_TRANSITION,
        `A self-edit cannot go from ${edit.status} to ${to}`,
        {
          from: edit.status,
          to,
        },
      );
    }
    await alongside?.(manager, edit);
    // Back to PROPOSED (a retry after an infrastructure failure) starts a new pipeline run.
    const pipelineRun = to === SelfEditStatus.PROPOSED ? edit.pipelineRun + 1 : edit.pipelineRun;
    const changes = { status: to, statusReason: reason, pipelineRun, updatedAt: new Date() };
    if (!(await this.repository.updateStatusIfVersion(manager, id, edit.version, changes))) {
      throw new SelfEditError(
        SelfEditErrorCode.STALE_VERSION,
        `Self-edit ${id} was changed concurrently; retry`,
      );
    }
    await this.audit.append(manager, actor, {
      action: AuditAction.SELF_EDIT_STATUS_CHANGED,
      subjectType: Subject.SelfEdit,
      subjectId: id,
      before: { status: edit.status, version: edit.version },
      after: { status: to, version: edit.version + 1, pipelineRun, reason },
    });
    return Object.assign(edit, changes, { version: edit.version + 1 });
  }

  /** A run that waits in `status` says why (shown as its status reason until it moves on). */
  waiting(
    id: string,
    at: { pipelineRun: number; status: SelfEditStatus },
    reason: string | null,
  ): Promise<void> {
    return this.repository.setWaitingReason(id, at, reason);
  }
}
