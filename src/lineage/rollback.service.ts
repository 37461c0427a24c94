import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelEntity } from 'src/channels/channel.entity';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { editsOf } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { ChannelHeads } from 'src/lineage/channel-heads';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { LineageError, LineageErrorCode } from 'src/lineage/lineage.errors';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

/** Rolls a channel back to an earlier version of its stack, signed by the gateway. */
@Injectable()
export class RollbackService {
  constructor(
    private readonly heads: ChannelHeads,
    private readonly versions: AdapterVersionsRepository,
    private readonly edits: SelfEditsService,
    private readonly signer: LineageSigner,
  ) {}

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
    const channel = await this.heads.getByName(channelName);
    ctx.assertCan(Action.rollback, Subject.Channel, channel);
    if (!reason.trim()) throw new LineageError(LineageErrorCode.REASON_REQUIRED, 'A rollback needs a reason');
    const key = await this.signer.gatewayKey();
    return this.heads.inTransaction(channel, async (manager, head) => {
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
      return this.heads.move(manager, ctx.actor, head, toAdapterVersionId, 'rollback', {
        reason,
        rolledBack: removed.map((v) => v.id),
      });
    });
  }
}
