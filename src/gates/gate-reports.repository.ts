import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { GateReportEntity } from 'src/gates/gate-report.entity';

@Injectable()
export class GateReportsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, report: GateReportEntity): Promise<void> {
    await manager.getRepository(GateReportEntity).save(report);
  }

  /** The edit's reports, oldest first; only those of `pipelineRun` when given. */
  forEdit(
    selfEditId: string,
    pipelineRun?: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<GateReportEntity[]> {
    return manager.getRepository(GateReportEntity).find({
      where: pipelineRun === undefined ? { selfEditId } : { selfEditId, pipelineRun },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
  }
}
