import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ParseUUIDPipe } from '@nestjs/common';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelsService } from 'src/channels/channels.service';
import { ProposeSelfEditInput } from 'src/self-edits/dto/propose-self-edit.input';
import { SelfEditsArgs } from 'src/self-edits/dto/self-edits.args';
import { SelfEditModel } from 'src/self-edits/self-edit.model';
import { SelfEditsService } from 'src/self-edits/self-edits.service';

@Resolver(() => SelfEditModel)
export class SelfEditsResolver {
  constructor(
    private readonly service: SelfEditsService,
    private readonly channels: ChannelsService,
  ) {}

  @Query(() => [SelfEditModel], { description: 'Newest first.' })
  @CheckPolicy(Action.read, Subject.SelfEdit)
  async selfEdits(@Args() args: SelfEditsArgs): Promise<SelfEditModel[]> {
    const channelId = args.channel ? (await this.channels.getByName(args.channel)).id : undefined;
    const edits = await this.service.page({ status: args.status, channelId }, args.limit, args.offset);
    return edits.map((e) => SelfEditModel.from(e));
  }

  @Query(() => SelfEditModel)
  @CheckPolicy(Action.read, Subject.SelfEdit)
  async selfEdit(@Args('id', { type: () => ID }, ParseUUIDPipe) id: string): Promise<SelfEditModel> {
    return SelfEditModel.from(await this.service.get(id));
  }

  @Mutation(() => SelfEditModel, {
    description: 'Proposes a change; it starts in PROPOSED and must pass every gate.',
  })
  @CheckPolicy(Action.create, Subject.SelfEdit)
  async proposeSelfEdit(
    @Auth() auth: AuthContext,
    @Args('input') input: ProposeSelfEditInput,
  ): Promise<SelfEditModel> {
    return SelfEditModel.from(await this.service.propose(auth, input));
  }

  @Mutation(() => SelfEditModel, {
    description: 'Starts a new run through every gate for an edit whose last run FAILED (infrastructure).',
  })
  @CheckPolicy(Action.create, Subject.SelfEdit)
  async retrySelfEdit(
    @Auth() auth: AuthContext,
    @Args('id', { type: () => ID }, ParseUUIDPipe) id: string,
  ): Promise<SelfEditModel> {
    return SelfEditModel.from(await this.service.retry(auth, id));
  }
}
