import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelsService } from 'src/channels/channels.service';
import { SealRoundsArgs } from 'src/seal/rounds/dto/seal-rounds.args';
import { StartSealRoundInput } from 'src/seal/rounds/dto/start-seal-round.input';
import { SealRoundModel } from 'src/seal/rounds/seal-round.model';
import { SealRoundNotifications } from 'src/seal/rounds/seal-round-notifications';
import { LIVE_ROUND_STATUSES } from 'src/seal/rounds/seal-round.types';
import { SealRoundsService } from 'src/seal/rounds/seal-rounds.service';

/** Self-edits sampled per passage when the caller does not say (SEAL samples 5). */
export const DEFAULT_ROUND_SAMPLES = 5;

@Resolver(() => SealRoundModel)
export class SealRoundsResolver {
  constructor(
    private readonly rounds: SealRoundsService,
    private readonly channels: ChannelsService,
    private readonly notifications: SealRoundNotifications,
  ) {}

  @Mutation(() => SealRoundModel, {
    description:
      "Starts a ReST-EM round on the channel's model: k self-edits per passage, each trained and rewarded by " +
      'its accuracy gain, the best kept, the generator fine-tuned on them. The update is proposed as a ' +
      'self-edit of kind generator and gated like any other.',
  })
  @CheckPolicy(Action.create, Subject.SealRound)
  async startSealRound(
    @Auth() auth: AuthContext,
    @Args('input') input: StartSealRoundInput,
  ): Promise<SealRoundModel> {
    const round = await this.rounds.start(auth, {
      channel: input.channel,
      knowledgeSourceIds: input.knowledgeSourceIds,
      k: input.k ?? DEFAULT_ROUND_SAMPLES,
      seed: input.seed ?? 0,
    });
    return SealRoundModel.from(round);
  }

  @Mutation(() => SealRoundModel, { description: 'Stops a QUEUED or RUNNING round for good.' })
  @CheckPolicy(Action.cancel, Subject.SealRound)
  async cancelSealRound(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
  ): Promise<SealRoundModel> {
    return SealRoundModel.from(await this.rounds.cancel(auth, id));
  }

  @Query(() => SealRoundModel)
  @CheckPolicy(Action.read, Subject.SealRound)
  async sealRound(@Args('id', { type: () => ID }, ParseUUIDPipe) id: string): Promise<SealRoundModel> {
    return SealRoundModel.from(await this.rounds.get(id));
  }

  @Query(() => [SealRoundModel], { description: 'Newest first.' })
  @CheckPolicy(Action.read, Subject.SealRound)
  async sealRounds(@Args() args: SealRoundsArgs): Promise<SealRoundModel[]> {
    const channelId = args.channel ? (await this.channels.getByName(args.channel)).id : undefined;
    const filter = { status: args.status, channelId, selfEditId: args.selfEditId };
    const rounds = await this.rounds.page(filter, args.limit, args.offset);
    return rounds.map((r) => SealRoundModel.from(r));
  }

  @Subscription(() => SealRoundModel, {
    description:
      'The round now, then again at each progress step and status change; completes once the round is ' +
      'SUCCEEDED, FAILED or CANCELLED (graphql-ws; API key in connection_init).',
    resolve: (round: SealRoundModel) => round,
  })
  @CheckPolicy(Action.read, Subject.SealRound)
  sealRoundProgress(
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
  ): AsyncGenerator<SealRoundModel> {
    return this.stream(id);
  }

  private async *stream(id: string): AsyncGenerator<SealRoundModel> {
    const controller = new AbortController();
    try {
      const changes = this.notifications.changes(controller.signal);
      // Listen first, then read: a change between the two is not lost.
      const first = changes.next();
      first.catch(() => undefined); // when the round is already over, this listen is aborted unread
      let round = await this.rounds.get(id);
      yield SealRoundModel.from(round);
      if (!LIVE_ROUND_STATUSES.includes(round.status)) return;
      for (let next = await first; !next.done; next = await changes.next()) {
        if (next.value.id !== id || next.value.updatedAt < round.updatedAt) continue;
        round = next.value;
        yield SealRoundModel.from(round);
        if (!LIVE_ROUND_STATUSES.includes(round.status)) return;
      }
    } finally {
      controller.abort(); // the client went away, or the round is over: stop listening
    }
  }
}
