import { KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { Actor } from 'src/common/actor';
import { TransactionRunner } from 'src/database/transaction-runner';
import { AuditAction } from 'src/audit/audit-action';
import { AuditService } from 'src/audit/audit.service';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ApprovalsService } from 'src/approvals/approvals.service';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelsService } from 'src/channels/channels.service';
import { GateReportsService } from 'src/gates/gate-reports.service';
import { ChannelPolicy } from 'src/gates/policy/channel-policy';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { editsOf } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { applyBlockers, requiredApprovals } from 'src/approvals/approval-rules';
import { GATEWAY_KEY_OWNER, KeysService } from 'src/attestation/keys/keys.service';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { KnowledgeService } from 'src/knowledge/knowledge.service';
import { LineageError, LineageErrorCode } from 'src/lineage/lineage.errors';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

/** The audit action of each way a channel head moves. */
const HEAD_MOVE_ACTIONS = {
  apply: AuditAction.CHANNEL_APPLIED,
  rollback: AuditAction.CHANNEL_ROLLED_BACK,
  revert: AuditAction.CHANNEL_REVERTED,
} as const;

/**
 * Moves channel heads: applying an approved edit's adapter, and rolling a channel back to an earlier version.
 * Serving resolves the head per request, so a move takes effect on the next request without dropping any.
 */
@Injectable()
export class LineageService {
  constructor(
    private readonly versions: AdapterVersionsRepository,
    private readonly transactions: TransactionRunner,
    private readonly audit: AuditService,
    private readonly edits: SelfEditsService,
    private readonly channels: ChannelsService,
    private readonly policies: ChannelPolicyService,
    private readonly reports: GateReportsService,
    private readonly approvals: ApprovalsService,
    private readonly knowledge: KnowledgeService,
    private readonly keys: KeysService,
    private readonly signer: LineageSigner,
  ) {}

  /**
   * Applies an APPROVED edit: its candidate becomes the channel head. Everything the decision rests on is read
   * again inside the transaction and checked by `applyBlockers`; a candidate trained on a head that has moved
   * since is refused (its gates measured another stack) and the edit must run again.
   */
  async apply(
    ctx: AuthContext,
    selfEditId: string,
  ): Promise<{ edit: SelfEditEntity; channel: ChannelEntity }> {
    const edit = await this.edits.get(selfEditId);
    const channel = await this.channels.get(edit.channelId);
    ctx.assertCan(Action.apply, Subject.Channel, channel);
    const policy = this.policies.forChannel(channel.name);
    const { key } = await this.keys.signer(GATEWAY_KEY_OWNER);
    try {
      return await this.applyIn(ctx, selfEditId, channel, policy, key);
    } catch (err) {
      if (err instanceof LineageError && err.code === LineageErrorCode.HEAD_MOVED) {
        // Its gates measured another stack: the edit leaves review and can only run again (retrySelfEdit).
        await this.edits.transition(ctx.actor, selfEditId, SelfEditStatus.FAILED, err.message);
      }
      throw err;
    }
  }

  private applyIn(
    ctx: AuthContext,
    selfEditId: string,
    channel: ChannelEntity,
    policy: ChannelPolicy,
    key: KeyObject,
  ): Promise<{ edit: SelfEditEntity; channel: ChannelEntity }> {
    return this.transactions.run(async (manager) => {
      const current = (await manager.getRepository(SelfEditEntity).findOneBy({ id: selfEditId }))!;
      const requiredGates = [...policy.gates.screening, ...policy.gates.evaluation].map((g) => g.gate.name);
      const reports = await this.reports.forEdit(selfEditId, undefined, manager);
      const evidence = {
        edit: current,
        requiredGates,
        reports,
        approvals: await this.approvals.forEdit(selfEditId, manager),
        approval: policy.approval,
      };
      const blockers = applyBlockers(evidence);
      if (blockers.length) {
        throw new LineageError(
          LineageErrorCode.NOT_APPLICABLE,
          `Self-edit ${selfEditId} cannot be applied: ${blockers.join('; ')}`,
          {
            blockers,
          },
        );
      }
      const candidate = await this.versions.candidateOf(current, manager);
      if (!candidate)
        throw new LineageError(
          LineageErrorCode.NO_CANDIDATE,
          `Self-edit ${selfEditId} has no candidate adapter`,
        );
      const head = (await manager.getRepository(ChannelEntity).findOneBy({ id: channel.id }))!;
      if (candidate.parentId !== head.headAdapterId) {
        throw new LineageError(
          LineageErrorCode.HEAD_MOVED,
          `Channel ${channel.name} moved from ${candidate.parentId ?? 'the base model'} to ${head.headAdapterId ?? 'the base model'} since this candidate was trained; retry the edit to train and gate it on the new head`,
          { trainedOn: candidate.parentId, head: head.headAdapterId },
        );
      }
      const now = new Date();
      await this.versions.markApplied(candidate.id, now, manager);
      const moved = await this.moveHead(manager, ctx.actor, head, candidate.id, 'apply', { selfEditId });
      await this.signer.signApplied(manager, ctx.actor, key, {
        channel,
        edit: current,
        source: current.knowledgeSourceId ? await this.knowledge.get(current.knowledgeSourceId) : null,
        candidate,
        parent: candidate.parentId ? await this.versions.findById(candidate.parentId, manager) : null,
        reports: reports.filter((r) => r.pipelineRun === current.pipelineRun),
        requiredGates,
        quorum: requiredApprovals(evidence),
      });
      const applied = await this.edits.transitionIn(manager, ctx.actor, selfEditId, SelfEditStatus.APPLIED);
      return { edit: applied, channel: moved };
    });
  }

  /**
   * Moves a channel's head back to `toAdapterVersionId` (an ancestor of the head; null: the base model). The
   * versions above it are ROLLED_BACK, and so are their edits.
   */
  async rollback(
    ctx: AuthContext,
    channelName: string,
    toAdapterVersionId: string | null,
    reason: string,
  ): Promise<ChannelEntity> {
    const channel = await this.channels.getByName(channelName);
    ctx.assertCan(Action.rollback, Subject.Channel, channel);
    if (!reason.trim()) throw new LineageError(LineageErrorCode.REASON_REQUIRED, 'A rollback needs a reason');
    const { key } = await this.keys.signer(GATEWAY_KEY_OWNER);
    return this.transactions.run(async (manager) => {
      const head = (await manager.getRepository(ChannelEntity).findOneBy({ id: channel.id }))!;
      const chain = await this.versions.chainOf(head.headAdapterId, manager);
      const keep =
        toAdapterVersionId === null ? chain.length : chain.findIndex((v) => v.id === toAdapterVersionId);
      if (keep < 0) {
        throw new LineageError(
          LineageErrorCode.NOT_IN_LINEAGE,
          `Adapter version ${toAdapterVersionId} is not below the head of channel ${channelName}`,
          { head: head.headAdapterId },
        );
      }
      const removed = chain.slice(0, keep);
      if (removed.length === 0) {
        throw new LineageError(
          LineageErrorCode.NOT_IN_LINEAGE,
          `Channel ${channelName} is already at that version`,
        );
      }
      await this.versions.setStatus(
        removed.map((v) => v.id),
        AdapterStatus.ROLLED_BACK,
        manager,
      );
      for (const selfEditId of removed.flatMap(editsOf)) {
        await this.edits.transitionIn(manager, ctx.actor, selfEditId, SelfEditStatus.ROLLED_BACK, reason);
      }
      await this.signer.signRollback(manager, ctx.actor, key, {
        channelId: head.id,
        channel: head.name,
        from: head.headAdapterId,
        to: toAdapterVersionId,
        reason,
      });
      return this.moveHead(manager, ctx.actor, head, toAdapterVersionId, 'rollback', {
        reason,
        rolledBack: removed.map((v) => v.id),
      });
    });
  }

  /** Conditional on the channel version read, so two concurrent moves cannot both win. */
  async moveHead(
    manager: EntityManager,
    actor: Actor,
    channel: ChannelEntity,
    to: string | null,
    why: 'apply' | 'rollback' | 'revert',
    details: Record<string, unknown>,
  ): Promise<ChannelEntity> {
    const changes = { headAdapterId: to, updatedAt: new Date(), version: channel.version + 1 };
    const result = await manager
      .getRepository(ChannelEntity)
      .update({ id: channel.id, version: channel.version }, changes);
    if ((result.affected ?? 0) !== 1) {
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
}
