import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { AttestationEntity } from 'src/attestation/attestation.entity';

@Injectable()
export class AttestationsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(manager: EntityManager, row: AttestationEntity): Promise<void> {
    await manager.getRepository(AttestationEntity).insert(row);
  }

  /** The attestations about any of `subjectIds`, oldest first. */
  about(subjectIds: string[], manager: EntityManager = this.dataSource.manager): Promise<AttestationEntity[]> {
    if (subjectIds.length === 0) return Promise.resolve([]);
    return manager
      .getRepository(AttestationEntity)
      .find({ where: { subjectId: In(subjectIds) }, order: { createdAt: 'ASC', id: 'ASC' } });
  }
}
