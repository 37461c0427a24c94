import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';
import { ChannelPolicyService } from 'src/gates/policy/channel-policy.service';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterRevert, AdapterVersionEntity, editsOf } from 'src/adapter-versions/adapter-version.entity';
import { AdapterVersionsRepository } from 'src/adapter-versions/adapter-versions.repository';
import { ChannelHeads } from 'src/lineage/channel-heads';
import { LineageSigner } from 'src/lineage/lineage-signer';
import { LineageError, LineageErrorCode } from 'src/lineage/lineage.errors';
import { RevertGates } from 'src/lineage/revert/revert-gates';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

/**
 * Surgical revert: takes one applied edit out of the middle of a channel's stack. The versions above it are
 * rebuilt, exactly, as one new adapter (their rank concatenation) on the removed version's parent; the channel
 * policy's forgetting gates run on that stack against the current head before anything moves, and a FAIL
 * refuses the revert. Then, in one transaction: the gate reports, the new version (APPLIED, its `revert` record
 * saying what was removed, what is carried and why), the removed version ROLLED_BACK with its edit, the carried
 * versions SUPERSEDED (their edits stay APPLIED), the gateway's signatures, and the conditional head move.
 */
@Injectable()
export class RevertService {
  constructor(
    private readonly heads: ChannelHeads,
    private readonly versions: AdapterVersionsRepository,
    private readonly policies: ChannelPolicyService,
    private readonly edits: SelfEditsService,
    private readonly signer: LineageSigner,
    private readonly gates: RevertGates,
  ) {}

  async revert(
    ctx: AuthContext,
    channelName: string,
    adapterVersionId: string,
    reason: string,
  ): Promise<AdapterVersionEntity> {
    const channel = await this.heads.getByName(channelName);
    ctx.assertCan(Action.revert, Subject.Channel, channel);
    if (!reason.trim()) throw new LineageError(LineageErrorCode.REASON_REQUIRED, 'A revert needs a reason');
    const head = await this.heads.inTransaction(channel, (manager) =>
      this.versions.chainOf(channel.headAdapterId, manager),
    );
    const index = head.findIndex((v) => v.id === adapterVersionId);
    if (index < 0) {
      throw new LineageError(
        LineageErrorCode.NOT_IN_LINEAGE,
        `Adapter version ${adapterVersionId} is not in the stack of channel ${channelName}`,
        { head: channel.headAdapterId },
      );
    }
    const removed = head[index];
    if (index === 0) {
      throw new LineageError(
        LineageErrorCode.NOT_REVERTIBLE,
        `Adapter version ${removed.id} is the head of channel ${channelName}: roll back to its parent instead`,
      );
    }
    if (!removed.selfEditId) {
      throw new LineageError(
        LineageErrorCode.NOT_REVERTIBLE,
        `Adapter version ${removed.id} is itself a revert and holds no single edit`,
      );
    }
    const removedEdit = await this.edits.get(removed.selfEditId);
    const carried = head.slice(0, index).reverse();
    const below = head.slice(index + 1);
    const policy = this.policies.forChannel(channel.name);

    const built = this.gates.buildAdapter(carried);
    const { outcomes, failed } = await this.gates.run(policy, removedEdit, head, {
      below,
      carried,
      digest: built.digest,
    });
    const verdicts = Object.fromEntries(outcomes.map((o) => [o.gate.name, o.outcome.verdict]));
    if (failed.length) {
      await this.heads.revertRefused(ctx.actor, channel, {
        adapterVersionId: removed.id,
        reason,
        verdicts,
        metrics: Object.fromEntries(outcomes.map((o) => [o.gate.name, o.outcome.metrics])),
      });
      throw new LineageError(
        LineageErrorCode.REVERT_GATE_FAILED,
        `Reverting ${removed.id} from channel ${channelName} is refused: ${failed.join(', ')} failed on the stack without it`,
        { verdicts },
      );
    }

    const key = await this.signer.gatewayKey();
    const reverted = await this.heads.inTransaction(channel, async (manager, current) => {
      if (current.headAdapterId !== head[0].id) {
        throw new LineageError(
          LineageErrorCode.STALE_CHANNEL,
          `Channel ${channelName} moved while the revert was gated; retry`,
        );
      }
      if (await this.versions.existsByDigest(built.digest, manager)) {
        throw new CommonError(
          CommonErrorCode.ALREADY_EXISTS,
          `An adapter version with the rebuilt stack's digest ${built.digest} exists already`,
        );
      }
      const reports = await this.gates.record(manager, ctx.actor, removedEdit, outcomes);
      const revert: AdapterRevert = {
        removedAdapterVersionId: removed.id,
        removedSelfEditId: removedEdit.id,
        removedDigest: removed.digest,
        fromHeadAdapterId: head[0].id,
        carried: carried.map((v) => ({ adapterVersionId: v.id, digest: v.digest })),
        carriedSelfEditIds: carried.flatMap(editsOf),
        reason,
        gateReportIds: reports.map((r) => r.id),
      };
      const now = new Date();
      const version = Object.assign(new AdapterVersionEntity(), {
        id: randomUUID(),
        channelId: channel.id,
        selfEditId: null,
        parentId: removed.parentId,
        digest: built.digest,
        status: AdapterStatus.APPLIED,
        training: null,
        revert,
        createdAt: now,
        appliedAt: now,
      });
      await this.versions.insert(manager, version);
      await this.versions.setStatus([removed.id], AdapterStatus.ROLLED_BACK, manager);
      await this.versions.setStatus(
        carried.map((v) => v.id),
        AdapterStatus.SUPERSEDED,
        manager,
      );
      await this.edits.transitionIn(
        manager,
        ctx.actor,
        removedEdit.id,
        SelfEditStatus.ROLLED_BACK,
        `reverted: ${reason}`,
      );
      await this.signer.signRevert(manager, ctx.actor, key, {
        channel,
        version,
        parent: below[0] ?? null,
        baseModelDigest: this.gates.baseModelDigest,
        reports,
        requiredGates: this.gates.required(policy).map((g) => g.gate.name),
      });
      await this.heads.move(manager, ctx.actor, current, version.id, 'revert', {
        reason,
        removedAdapterVersionId: removed.id,
        removedSelfEditId: removedEdit.id,
        carried: revert.carried.map((c) => c.adapterVersionId),
        verdicts,
      });
      return version;
    });
    await this.signer.publishModelSignature(reverted);
    return reverted;
  }
}
