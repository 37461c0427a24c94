import { Module } from '@nestjs/common';
import { ChannelsRepository } from 'src/channels/channels.repository';
import { ChannelsResolver } from 'src/channels/channels.resolver';
import { ChannelsService } from 'src/channels/channels.service';

@Module({
  providers: [ChannelsRepository, ChannelsService, ChannelsResolver],
  exports: [ChannelsRepository, ChannelsService],
})
export class ChannelsModule {}
