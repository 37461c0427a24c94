import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { KnowledgeSourceEntity } from 'src/knowledge/knowledge-source.entity';

@Injectable()
export class KnowledgeRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<KnowledgeSourceEntity | null> {
    return manager.getRepository(KnowledgeSourceEntity).findOneBy({ id });
  }

  findByIds(ids: string[]): Promise<KnowledgeSourceEntity[]> {
    return this.dataSource.getRepository(KnowledgeSourceEntity).findBy({ id: In(ids) });
  }

  page(limit: number, offset: number): Promise<KnowledgeSourceEntity[]> {
    return this.dataSource
      .getRepository(KnowledgeSourceEntity)
      .find({ order: { createdAt: 'DESC', id: 'ASC' }, take: limit, skip: offset });
  }

  insert(manager: EntityManager, source: KnowledgeSourceEntity): Promise<KnowledgeSourceEntity> {
    return manager.getRepository(KnowledgeSourceEntity).save(source);
  }
}
