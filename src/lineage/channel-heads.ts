import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { Subject } from 'src/auth/policy';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsRepository } from 'src/channels/channels.repository';
import { ChannelsService } from 'src/channels/channels.service';
import { LineageError, LineageErrorCode } from 'src/lineage/lineage.errors';

/** The audit action of each way a channel head moves. */
const HEAD_MOVE_ACTIONS = {
  apply: AuditAction.CHANNEL_APPLIED,
  rollback: AuditAction.CHANNEL_ROLLED_BACK,
  revert: AuditAction.CHANNEL_REVERTED,
} as const;

export type HeadMove = keyof typeof HEAD_MOVE_ACTIONS;

/**
 * Channels as apply, rollback and revert see them: looked up, read again inside the transaction that moves
 * their head, and moved conditionally on the version read, with the move (or a refused one) audited.
 */
@Injectable()
export class ChannelHeads {
  constructor(
    private readonly channels: ChannelsService,
    private readonly repository: ChannelsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
  ) {}

  get(id: string): Promise<ChannelEntity> {
    return this.channels.get(id);
  }

  getByName(name: string): Promise<ChannelEntity> {
    return this.channels.getByName(name);
  }

  /** Runs `work` in one transaction, on the channel as read inside it. */
  inTransaction<T>(
    channel: { id: string },
    work: (manager: EntityManager, current: ChannelEntity) => Promise<T>,
  ): Promise<T> {
    return this.transactions.run(async (manager) =>
      work(manager, (await this.repository.findById(channel.id, manager))!),
    );
  }

  /** Conditional on the channel version read, so two concurrent moves cannot both win. */
  async move(
    manager: EntityManager,
    actor: Actor,
    channel: ChannelEntity,
    to: string | null,
    why: HeadMove,
    details: Record<string, unknown>,
  ): Promise<ChannelEntity> {
    const changes = { headAdapterId: to, updatedAt: new Date(), version: channel.version + 1 };
    if (!(await this.repository.updateHeadIfVersion(manager, channel.id, channel.version, changes))) {
      throw new LineageError(
        LineageErrorCode.STALE_CHANNEL,
        `Channel ${channel.name} was changed concurrently; retry`,
      );
    }
    await this.audit.append(manager, actor, {
      action: HEAD_MOVE_ACTIONS[why],
      subjectType: Subject.Channel,
      subjectId: channel.id,
      before: { headAdapterId: channel.headAdapterId, version: channel.version },
      after: { headAdapterId: to, version: channel.version + 1, ...details },
    });
    return Object.assign(channel, changes);
  }

  /** Audits a revert its gates refused (nothing moved). */
  async revertRefused(actor: Actor, channel: ChannelEntity, details: Record<string, unknown>): Promise<void> {
    await this.audit.record(actor, {
      action: AuditAction.CHANNEL_REVERT_REFUSED,
      subjectType: Subject.Channel,
      subjectId: channel.id,
      after: details,
    });
  }
}
