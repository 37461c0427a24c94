import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, In } from 'typeorm';
import { CommonError } from 'src/common/errors/domain-error';
import { AdapterStatus } from 'src/adapter-versions/adapter-status';
import { AdapterVersionEntity, CandidateTraining } from 'src/adapter-versions/adapter-version.entity';

/** Serving allows no deeper stack; a longer chain is a corrupt one (or a cycle). */
export const MAX_STACK_DEPTH = 1000;

export interface NewCandidate {
  channelId: string;
  selfEditId: string;
  /** The head it was trained on; null: the base model. */
  parentId: string | null;
  digest: string;
  training: CandidateTraining;
}

@Injectable()
export class AdapterVersionsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  findById(
    id: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AdapterVersionEntity | null> {
    return manager.getRepository(AdapterVersionEntity).findOneBy({ id });
  }

  findByIds(
    ids: string[],
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AdapterVersionEntity[]> {
    return manager.getRepository(AdapterVersionEntity).findBy({ id: In(ids) });
  }

  existsByDigest(digest: string, manager: EntityManager = this.dataSource.manager): Promise<boolean> {
    return manager.getRepository(AdapterVersionEntity).existsBy({ digest });
  }

  /** `headId` and its ancestors down to the base model, head first; none for a null head. */
  async chainOf(
    headId: string | null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AdapterVersionEntity[]> {
    const chain: AdapterVersionEntity[] = [];
    for (let id = headId; id;) {
      const version = await this.findById(id, manager);
      if (!version) throw CommonError.notFound('AdapterVersion', id);
      chain.push(version);
      if (chain.length > MAX_STACK_DEPTH)
        throw new Error(`adapter ${headId}: parent chain deeper than ${MAX_STACK_DEPTH}`);
      id = version.parentId;
    }
    return chain;
  }

  /** The candidate adapter of the edit's latest run. */
  candidateOf(
    edit: { id: string },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<AdapterVersionEntity | null> {
    return manager.getRepository(AdapterVersionEntity).findOne({
      where: { selfEditId: edit.id, status: AdapterStatus.CANDIDATE },
      order: { createdAt: 'DESC' },
    });
  }

  /** The candidate of this run; a retried training stage finds the one it already recorded. */
  async recordCandidate(manager: EntityManager, candidate: NewCandidate): Promise<string> {
    const { selfEditId, parentId, digest, training } = candidate;
    const repository = manager.getRepository(AdapterVersionEntity);
    const existing = await repository.findOneBy({ digest });
    if (existing) {
      if (existing.selfEditId !== selfEditId) {
        throw new Error(`adapter ${digest} already belongs to self-edit ${existing.selfEditId}`);
      }
      await repository.update({ id: existing.id }, { status: AdapterStatus.CANDIDATE, parentId, training });
      return existing.id;
    }
    const id = randomUUID();
    await repository.insert({
      ...candidate,
      id,
      status: AdapterStatus.CANDIDATE,
      createdAt: new Date(),
      appliedAt: null,
    });
    return id;
  }

  async insert(manager: EntityManager, version: AdapterVersionEntity): Promise<void> {
    await manager.getRepository(AdapterVersionEntity).insert(version);
  }

  async setStatus(
    ids: string[],
    status: AdapterStatus,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<void> {
    if (ids.length === 0) return;
    await manager.getRepository(AdapterVersionEntity).update({ id: In(ids) }, { status });
  }

  async markApplied(id: string, at: Date, manager: EntityManager): Promise<void> {
    await manager
      .getRepository(AdapterVersionEntity)
      .update({ id }, { status: AdapterStatus.APPLIED, appliedAt: at });
  }
}
