import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { PipelineLauncher } from 'src/self-edits/pipeline-launcher';
import { PipelineTransitions } from 'src/pipeline/stages/pipeline-transitions';
import { SelfEditsRepository } from 'src/self-edits/self-edits.repository';
import { SelfEditStatus } from 'src/self-edits/self-edit-status';

const S = SelfEditStatus;

/**
 * When a worker starts, every edit still inside the pipeline is checked against its run's jobs:
 * - jobs still queued or running are left alone (a job whose worker died is stalled: BullMQ's stalled check puts
 *   it back, or fails it after `maxStalledCount`, and the processor then ends the edit);
 * - a run that ended without moving the edit (a job failed for good while nobody marked the edit, e.g. the worker
 *   died in between, or a gateway before this check left it so) ends the edit FAILED with that job's reason, so
 *   it can be retried;
 * - an edit whose jobs were lost (Redis flushed, or the enqueue after its proposal failed) gets its run again.
 */
@Injectable()
export class PipelineRecovery implements OnApplicationBootstrap {
  private readonly logger = new Logger(PipelineRecovery.name);

  constructor(
    private readonly edits: SelfEditsRepository,
    private readonly launcher: PipelineLauncher,
    private readonly stages: PipelineTransitions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const pending = await this.edits.withStatus([S.PROPOSED, S.SCREENING, S.TRAINING, S.EVALUATING]);
    const counts = { resumed: 0, failed: 0 };
    for (const edit of pending) {
      try {
        const run = await this.launcher.inspect(edit);
        if (run.state === 'lost') {
          await this.launcher.start(edit);
          counts.resumed++;
        } else if (run.state === 'ended') {
          await this.stages.markFailed({ selfEditId: edit.id, pipelineRun: edit.pipelineRun }, run.reason);
          counts.failed++;
        }
      } catch (err) {
        this.logger.error({ err, selfEditId: edit.id }, 'could not recover the pipeline run');
      }
    }
    if (counts.resumed || counts.failed) this.logger.log(counts, 'pipeline runs recovered');
  }
}
