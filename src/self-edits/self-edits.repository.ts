import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';

export interface SelfEditFilter {
  status?: SelfEditStatus;
  channelId?: string;
}

@Injectable()
export class SelfEditsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<SelfEditEntity | null> {
    return manager.getRepository(SelfEditEntity).findOneBy({ id });
  }

  findByIds(ids: string[]): Promise<SelfEditEntity[]> {
    return this.dataSource.getRepository(SelfEditEntity).findBy({ id: In(ids) });
  }

  /** Every edit in one of `statuses`. */
  withStatus(statuses: SelfEditStatus[]): Promise<SelfEditEntity[]> {
    return this.dataSource.getRepository(SelfEditEntity).findBy({ status: In(statuses) });
  }

  page(filter: SelfEditFilter, limit: number, offset: number): Promise<SelfEditEntity[]> {
    const where = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
    return this.dataSource
      .getRepository(SelfEditEntity)
      .find({ where, order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset });
  }

  insert(manager: EntityManager, edit: SelfEditEntity): Promise<SelfEditEntity> {
    return manager.getRepository(SelfEditEntity).save(edit);
  }

  /**
   * Says why a run is held where it is (e.g. waiting for a trainer), if the edit is still at that run and status.
   * Only the reason changes, so a concurrent transition (which checks the version) is not refused by it.
   */
  async setWaitingReason(
    id: string,
    at: Pick<SelfEditEntity, 'pipelineRun' | 'status'>,
    reason: string | null,
  ): Promise<void> {
    await this.dataSource
      .getRepository(SelfEditEntity)
      .update({ id, pipelineRun: at.pipelineRun, status: at.status }, { statusReason: reason });
  }

  /** Writes the new status only if nobody changed the edit since `expectedVersion` was read. */
  async updateStatusIfVersion(
    manager: EntityManager,
    id: string,
    expectedVersion: number,
    changes: Pick<SelfEditEntity, 'status' | 'statusReason' | 'pipelineRun' | 'updatedAt'>,
  ): Promise<boolean> {
    const result = await manager
      .getRepository(SelfEditEntity)
      .update({ id, version: expectedVersion }, { ...changes, version: expectedVersion + 1 });
    return (result.affected ?? 0) === 1;
  }
}
