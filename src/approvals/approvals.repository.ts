import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { ApprovalEntity } from 'src/approvals/approval.entity';

/** Whether `err` is the database refusing a second decision by the same reviewer on the same run. */
export const isDuplicateDecision = (err: unknown): boolean =>
  err instanceof QueryFailedError && /unique|UNIQUE/.test(err.message);

@Injectable()
export class ApprovalsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every decision on the edit, every run, oldest first. */
  forEdit(selfEditId: string, manager: EntityManager = this.dataSource.manager): Promise<ApprovalEntity[]> {
    return manager
      .getRepository(ApprovalEntity)
      .find({ where: { selfEditId }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Fails (isDuplicateDecision) when the reviewer already decided on this run. */
  async insert(manager: EntityManager, approval: ApprovalEntity): Promise<void> {
    await manager.getRepository(ApprovalEntity).insert(approval);
  }
}
