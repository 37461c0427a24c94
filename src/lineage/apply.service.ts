import { KeyObject } from 'node:crypto';
import { AdapterVersionEntity } from 'src/adapter-versions/adapter-version.entity';
import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelEntity } from 'src/channels/channel.entity';
import { ChannelPolicy } from 'src/gates/policy/channel-policy';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { applyBlockers, requiredApprovals } from 'src/approvals/approval-rules';
import { ChannelHeads } from 'src/lineage/channel-heads';
import { EditRecords } from 'src/lineage/edit-records';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { LineageError, LineageErrorCode } from 'src/lineage/lineage.errors';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

/**
 * Applies an approved edit's adapter: it becomes the channel head. Serving resolves the head per request, so the
 * move takes effect on the next request without dropping any.
 */
@Injectable()
export class ApplyService {
  constructor(
    private readonly edits: SelfEditsService,
    private readonly heads: ChannelHeads,
    private readonly policies: ChannelPolicyService,
    private readonly records: EditRecords,
    private readonly versions: AdapterVersionsRepository,
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
    const channel = await this.heads.get(edit.channelId);
    ctx.assertCan(Action.apply, Subject.Channel, channel);
    const policy = this.policies.forChannel(channel.name);
    const key = await this.signer.gatewayKey();
    try {
      const applied = await this.applyIn(ctx, selfEditId, channel, policy, key);
      await this.signer.publishModelSignature(applied.version);
      return { edit: applied.edit, channel: applied.channel };
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
  ): Promise<{ edit: SelfEditEntity; channel: ChannelEntity; version: AdapterVersionEntity }> {
    return this.heads.inTransaction(channel, async (manager, head) => {
      const evidence = await this.records.forApply(manager, selfEditId, policy);
      const current = evidence.edit;
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
      if (candidate.parentId !== head.headAdapterId) {
        throw new LineageError(
          LineageErrorCode.HEAD_MOVED,
          `Channel ${channel.name} moved from ${candidate.parentId ?? 'the base model'} to ${head.headAdapterId ?? 'the base model'} since this candidate was trained; retry the edit to train and gate it on the new head`,
          { trainedOn: candidate.parentId, head: head.headAdapterId },
        );
      }
      const now = new Date();
      await this.versions.markApplied(candidate.id, now, manager);
      const moved = await this.heads.move(manager, ctx.actor, head, candidate.id, 'apply', { selfEditId });
      await this.signer.signApplied(manager, ctx.actor, key, {
        channel,
        edit: current,
        source: evidence.source,
        candidate,
        parent: candidate.parentId ? await this.versions.findById(candidate.parentId, manager) : null,
        reports: evidence.reports.filter((r) => r.pipelineRun === current.pipelineRun),
        requiredGates: evidence.requiredGates,
        quorum: requiredApprovals(evidence),
      });
      const applied = await this.edits.transitionIn(manager, ctx.actor, selfEditId, SelfEditStatus.APPLIED);
      return { edit: applied, channel: moved, version: candidate };
    });
  }
}
