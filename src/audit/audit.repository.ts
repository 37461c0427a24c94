import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In, LessThanOrEqual, MoreThan } from 'typeorm';
import { AuditEventEntity } from 'src/audit/audit-event.entity';

/** Arbitrary constant naming the advisory lock that serialises appends to the chain on PostgreSQL. */
const AUDIT_CHAIN_LOCK = 0x5ea19a7e;

@Injectable()
export class AuditRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Must be called inside the transaction that appends; held until it commits. */
  async lockChain(manager: EntityManager): Promise<void> {
    if (manager.connection.options.type === 'postgres') {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_CHAIN_LOCK]);
    }
  }

  head(manager: EntityManager): Promise<AuditEventEntity | null> {
    return manager.getRepository(AuditEventEntity).findOne({ where: {}, order: { seq: 'DESC' } });
  }

  insert(manager: EntityManager, event: AuditEventEntity): Promise<AuditEventEntity> {
    return manager.getRepository(AuditEventEntity).save(event);
  }

  /** Every event's seq and chain hash, in sequence order (the leaves of the transparency log). */
  hashes(): Promise<Pick<AuditEventEntity, 'seq' | 'hash'>[]> {
    return this.dataSource
      .getRepository(AuditEventEntity)
      .find({ select: { seq: true, hash: true }, order: { seq: 'ASC' } });
  }

  page(
    afterSeq: number,
    limit: number,
    filter: { subjectType?: string; subjectId?: string; actorId?: string } = {},
  ): Promise<AuditEventEntity[]> {
    const where = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
    return this.dataSource.getRepository(AuditEventEntity).find({
      where: { ...where, seq: MoreThan(afterSeq) },
      order: { seq: 'ASC' },
      take: limit,
    });
  }

  /** The events about any of `subjectIds` up to `seq` (inclusive), in sequence order. */
  aboutSubjects(subjectIds: string[], upToSeq: number): Promise<AuditEventEntity[]> {
    return this.dataSource.getRepository(AuditEventEntity).find({
      where: { subjectId: In(subjectIds), seq: LessThanOrEqual(upToSeq) },
      order: { seq: 'ASC' },
    });
  }
}
