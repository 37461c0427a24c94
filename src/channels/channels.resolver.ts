import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Auth, CheckPolicy } from 'src/auth/auth.decorators';
import { AuthContext } from 'src/auth/auth-context';
import { Action, Subject } from 'src/auth/policy';
import { ChannelModel } from 'src/channels/channel.model';
import { ChannelsService } from 'src/channels/channels.service';
import { CreateChannelInput } from 'src/channels/dto/create-channel.input';

@Resolver(() => ChannelModel)
export class ChannelsResolver {
  constructor(private readonly service: ChannelsService) {}

  @Query(() => [ChannelModel])
  @CheckPolicy(Action.read, Subject.Channel)
  async channels(): Promise<ChannelModel[]> {
    return (await this.service.list()).map((c) => ChannelModel.from(c));
  }

  @Query(() => ChannelModel)
  @CheckPolicy(Action.read, Subject.Channel)
  async channel(@Args('name') name: string): Promise<ChannelModel> {
    return ChannelModel.from(await this.service.getByName(name));
  }

  @Mutation(() => ChannelModel)
  @CheckPolicy(Action.create, Subject.Channel)
  async createChannel(
    @Auth() auth: AuthContext,
    @Args('input') input: CreateChannelInput,
  ): Promise<ChannelModel> {
    return ChannelModel.from(await this.service.create(auth, input));
  }
}
