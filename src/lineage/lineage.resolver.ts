import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { AuditAction } from 'src/audit/audit-action';
import { Auth, AuditedCall, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelModel } from 'src/channels/channel.model';
import { AdapterVersionModel } from 'src/adapter-versions/adapter-version.model';
import { ApplyService } from 'src/lineage/apply.service';
import { LineageGraphModel } from 'src/lineage/graph/lineage-graph.model';
import { LineageGraphService } from 'src/lineage/graph/lineage-graph.service';
import { RollbackService } from 'src/lineage/rollback.service';
import { RevertService } from 'src/lineage/revert/revert.service';
import { SelfEditModel } from 'src/self-edits/self-edit.model';

@Resolver(() => AdapterVersionModel)
export class LineageResolver {
  constructor(
    private readonly applies: ApplyService,
    private readonly rollbacks: RollbackService,
    private readonly graphs: LineageGraphService,
    private readonly reverts: RevertService,
  ) {}

  @Query(() => [AdapterVersionModel], {
    description: "A channel's applied stack, head first, down to the base model.",
  })
  @CheckPolicy(Action.read, Subject.AdapterVersion)
  async channelStack(@Args('channel') channel: string): Promise<AdapterVersionModel[]> {
    return (await this.graphs.stackOf(channel)).map((v) => AdapterVersionModel.from(v));
  }

  @Query(() => LineageGraphModel, {
    description:
      'The full lineage of a channel (from its head) or of one adapter version, as a graph: adapters and their parents, the self-edits and passages they were trained from, gate reports, approvals and signed statements. Give exactly one of channel and adapterVersionId.',
  })
  @CheckPolicy(Action.read, Subject.AdapterVersion)
  @AuditedCall(AuditAction.LINEAGE_GRAPH_READ)
  lineageGraph(
    @Auth() auth: AuthContext,
    @Args('channel', { nullable: true }) channel?: string,
    @Args('adapterVersionId', { type: () => ID, nullable: true }, new ParseUUIDPipe({ optional: true }))
    adapterVersionId?: string,
  ): Promise<LineageGraphModel> {
    return this.graphs.build(auth, { channel, adapterVersionId });
  }

  @Mutation(() => SelfEditModel, {
    description: "Applies an APPROVED edit: its candidate adapter becomes the channel's head.",
  })
  @CheckPolicy(Action.apply, Subject.Channel)
  async applySelfEdit(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
  ): Promise<SelfEditModel> {
    return SelfEditModel.from((await this.applies.apply(auth, id)).edit);
  }

  @Mutation(() => ChannelModel, {
    description: "Moves a channel's head back to an earlier version of its stack (null: the base model).",
  })
  @CheckPolicy(Action.rollback, Subject.Channel)
  async rollbackChannel(
    @Auth() auth: AuthContext,
    @Args('channel') channel: string,
    @Args('toAdapterVersionId', { type: () => ID, nullable: true }) toAdapterVersionId: string | null,
    @Args('reason') reason: string,
  ): Promise<ChannelModel> {
    return ChannelModel.from(
      await this.rollbacks.rollback(auth, channel, toAdapterVersionId ?? null, reason),
    );
  }

  @Mutation(() => AdapterVersionModel, {
    description:
      "Takes one applied edit out of the middle of a channel's stack: the versions above it are rebuilt exactly (rank concatenation) as a new head on its parent, after the channel's forgetting gates pass on that stack. Returns the new head.",
  })
  @CheckPolicy(Action.revert, Subject.Channel)
  async revertSelfEdit(
    @Auth() auth: AuthContext,
    @Args('channel') channel: string,
    @Args('adapterVersionId', { type: () => ID }, ParseUUIDPipe) adapterVersionId: string,
    @Args('reason') reason: string,
  ): Promise<AdapterVersionModel> {
    return AdapterVersionModel.from(await this.reverts.revert(auth, channel, adapterVersionId, reason));
  }
}
