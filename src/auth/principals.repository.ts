import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { ApiKeyEntity } from 'src/auth/api-key.entity';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { Role } from 'src/auth/role';

@Injectable()
export class PrincipalsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(id: string, manager: EntityManager = this.dataSource.manager): Promise<PrincipalEntity | null> {
    return manager.getRepository(PrincipalEntity).findOneBy({ id });
  }

  findByName(
    name: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<PrincipalEntity | null> {
    return manager.getRepository(PrincipalEntity).findOneBy({ name });
  }

  list(): Promise<PrincipalEntity[]> {
    return this.dataSource.getRepository(PrincipalEntity).find({ order: { createdAt: 'ASC' } });
  }

  countByRole(role: Role, manager: EntityManager): Promise<number> {
    return manager.getRepository(PrincipalEntity).countBy({ role });
  }

  save(manager: EntityManager, principal: PrincipalEntity): Promise<PrincipalEntity> {
    return manager.getRepository(PrincipalEntity).save(principal);
  }

  findKeyByPrefix(prefix: string): Promise<ApiKeyEntity | null> {
    return this.dataSource
      .getRepository(ApiKeyEntity)
      .findOne({ where: { prefix }, relations: { principal: true } });
  }

  findKeyById(id: string, manager: EntityManager = this.dataSource.manager): Promise<ApiKeyEntity | null> {
    return manager.getRepository(ApiKeyEntity).findOneBy({ id });
  }

  listKeys(principalId?: string): Promise<ApiKeyEntity[]> {
    return this.dataSource
      .getRepository(ApiKeyEntity)
      .find({ where: principalId ? { principalId } : {}, order: { createdAt: 'ASC' } });
  }

  saveKey(manager: EntityManager, key: ApiKeyEntity): Promise<ApiKeyEntity> {
    return manager.getRepository(ApiKeyEntity).save(key);
  }

  async touchKey(id: string, at: Date): Promise<void> {
    await this.dataSource.getRepository(ApiKeyEntity).update({ id }, { lastUsedAt: at });
  }
}
