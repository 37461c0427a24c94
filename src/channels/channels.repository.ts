import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ChannelEntity } from 'src/channels/channel.entity';

@Injectable()
export class ChannelsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<ChannelEntity | null> {
    return manager.getRepository(ChannelEntity).findOneBy({ id });
  }

  findByName(name: string, manager: EntityManager = this.dataSource.manager): Promise<ChannelEntity | null> {
    return manager.getRepository(ChannelEntity).findOneBy({ name });
  }

  list(): Promise<ChannelEntity[]> {
    return this.dataSource.getRepository(ChannelEntity).find({ order: { name: 'ASC' } });
  }

  insert(manager: EntityManager, channel: ChannelEntity): Promise<ChannelEntity> {
    return manager.getRepository(ChannelEntity).save(channel);
  }

  /** Writes the head only if nobody changed the channel since `expectedVersion` was read. */
  async updateHeadIfVersion(
    manager: EntityManager,
    id: string,
    expectedVersion: number,
    changes: Pick<ChannelEntity, 'headAdapterId' | 'updatedAt' | 'version'>,
  ): Promise<boolean> {
    const result = await manager
      .getRepository(ChannelEntity)
      .update({ id, version: expectedVersion }, changes);
    return (result.affected ?? 0) === 1;
  }
}
