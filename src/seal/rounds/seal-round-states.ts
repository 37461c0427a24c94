import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { CommonError } from 'src/common/errors/domain-error';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { Subject } from 'src/auth/policy';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { SealRoundNotifications } from 'src/seal/rounds/seal-round-notifications';
import { SealRoundStatus } from 'src/seal/rounds/seal-round.types';
import { SealRoundFilter, SealRoundsRepository } from 'src/seal/rounds/seal-rounds.repository';

/** The audit event that goes with a round's move. */
export interface RoundEvent {
  action: AuditAction;
  before?: unknown;
  after: unknown;
}

/**
 * A round's stored state, as both its users (SealRoundsService) and its worker (SealRoundJobs) change it: a move
 * happens only from the statuses it names, together with its audit event in one transaction, and subscribers are
 * told of every change (best effort: the row is the truth).
 */
@Injectable()
export class SealRoundStates {
  private readonly logger = new Logger(SealRoundStates.name);

  constructor(
    private readonly repository: SealRoundsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
    readonly notifications: SealRoundNotifications,
  ) {}

  async get(id: string): Promise<SealRoundEntity> {
    const round = await this.repository.findById(id);
    if (!round) throw CommonError.notFound('SealRound', id);
    return round;
  }

  page(filter: SealRoundFilter, limit: number, offset: number): Promise<SealRoundEntity[]> {
    return this.repository.page(filter, limit, offset);
  }

  /** Stores a new round with its audit event. */
  insert(actor: Actor, round: SealRoundEntity, event: RoundEvent): Promise<SealRoundEntity> {
    return this.transactions.run(async (manager) => {
      const stored = await this.repository.insert(manager, round);
      await this.record(manager, actor, stored.id, event);
      return stored;
    });
  }

  /**
   * Moves the round from one of `from`, with its audit event, inside `manager`'s transaction or a new one. False
   * (and nothing written) when the round is no longer in `from`.
   */
  async move(
    actor: Actor,
    id: string,
    from: readonly SealRoundStatus[],
    changes: Partial<SealRoundEntity>,
    event: RoundEvent | null,
    manager?: EntityManager,
  ): Promise<boolean> {
    if (!event && !manager) return this.repository.updateIfStatus(id, from, changes);
    const apply = async (m: EntityManager) => {
      if (!(await this.repository.updateIfStatus(id, from, changes, m))) return false;
      if (event) await this.record(m, actor, id, event);
      return true;
    };
    return manager ? apply(manager) : this.transactions.run(apply);
  }

  /** Tells subscribers (best effort): the round as it is stored now. */
  async changed(id: string): Promise<void> {
    await this.get(id)
      .then((round) => this.notifications.publishChanged(round))
      .catch((err: Error) => this.logger.warn({ err }, 'round change not published'));
  }

  private async record(manager: EntityManager, actor: Actor, id: string, event: RoundEvent): Promise<void> {
    await this.audit.append(manager, actor, { ...event, subjectType: Subject.SealRound, subjectId: id });
  }
}
