import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, MoreThan } from 'typeorm';
import { LogCheckpointEntity } from 'src/attestation/transparency/log-checkpoint.entity';

@Injectable()
export class LogCheckpointsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The checkpoint of the largest tree, if any. */
  latest(): Promise<LogCheckpointEntity | null> {
    return this.repository().findOne({ where: {}, order: { treeSize: 'DESC' } });
  }

  /** Stores a checkpoint unless one of that tree size is stored already; returns the one stored. */
  async insertOrKeep(checkpoint: LogCheckpointEntity): Promise<LogCheckpointEntity> {
    await this.repository().createQueryBuilder().insert().values(checkpoint).orIgnore().execute();
    return this.repository().findOneByOrFail({ treeSize: checkpoint.treeSize });
  }

  /** Every checkpoint, smallest tree first. */
  all(): Promise<LogCheckpointEntity[]> {
    return this.repository().find({ order: { treeSize: 'ASC' } });
  }

  /** Checkpoints of trees larger than `afterTreeSize`, smallest first. */
  page(afterTreeSize: number, limit: number): Promise<LogCheckpointEntity[]> {
    return this.repository().find({
      where: { treeSize: MoreThan(afterTreeSize) },
      order: { treeSize: 'ASC' },
      take: limit,
    });
  }

  private repository() {
    return this.dataSource.getRepository(LogCheckpointEntity);
  }
}
