import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';
import { SealRoundStatus } from 'src/seal/rounds/seal-round.types';

export interface SealRoundFilter {
  channelId?: string;
  status?: SealRoundStatus;
  selfEditId?: string;
}

@Injectable()
export class SealRoundsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<SealRoundEntity | null> {
    return manager.getRepository(SealRoundEntity).findOneBy({ id });
  }

  findBySelfEdit(selfEditId: string): Promise<SealRoundEntity | null> {
    return this.dataSource.getRepository(SealRoundEntity).findOneBy({ selfEditId });
  }

  page(filter: SealRoundFilter, limit: number, offset: number): Promise<SealRoundEntity[]> {
    return this.dataSource.getRepository(SealRoundEntity).find({
      where: {
        ...(filter.channelId && { channelId: filter.channelId }),
        ...(filter.status && { status: filter.status }),
        ...(filter.selfEditId && { selfEditId: filter.selfEditId }),
      },
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
      skip: offset,
    });
  }

  insert(manager: EntityManager, round: SealRoundEntity): Promise<SealRoundEntity> {
    return manager.getRepository(SealRoundEntity).save(round);
  }

  /**
   * Changes a round only while it is in one of `from`: a cancelled round is never written over by its worker.
   * True when the row changed.
   */
  async updateIfStatus(
    id: string,
    from: readonly SealRoundStatus[],
    changes: Partial<SealRoundEntity>,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<boolean> {
    const result = await manager
      .getRepository(SealRoundEntity)
      .update({ id, status: In([...from]) }, { ...changes, updatedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}
