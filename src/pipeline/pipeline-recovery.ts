import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { PipelineLauncher } from 'src/pipeline/pipeline-launcher';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';

const S = SelfEditStatus;

/**
 * When a worker starts, every edit still inside the pipeline gets its run (re)started. Runs whose jobs are still
 * queued are untouched (the job ids are the same); an edit whose jobs were lost (Redis flushed, or the enqueue
 * after its proposal failed) is picked up again instead of waiting forever.
 */
@Injectable()
export class PipelineRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger(PipelineRecovery.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly launcher: PipelineLauncher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const pending = await this.dataSource.getRepository(SelfEditEntity).find({
      where: { status: In([S.PROPOSED, S.SCREENING, S.TRAINING, S.EVALUATING]) },
      select: { id: true, pipelineRun: true },
    });
    for (const edit of pending) await this.launcher.start(edit);
    if (pending.length) this.logger.log({ edits: pending.length }, 'pipeline runs resumed');
  }
}
