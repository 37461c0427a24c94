import { Logger } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { ModelService } from 'src/inference/model.service';
import { PipelineStages } from 'src/pipeline/pipeline.stages';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { PipelineJob, QueueName } from 'src/queues/queue-names';

/**
 * Consumes the pipeline queue one job at a time (training and the model gates use every core they are given).
 * When a job has spent its last attempt, its edit is marked FAILED: an infrastructure error never passes a gate.
 */
@Processor(QueueName.pipeline, { concurrency: 1 })
export class PipelineProcessor extends WorkerHost {
  private readonly logger = new Logger(PipelineProcessor.name);

  constructor(
    private readonly dispatcher: JobDispatcher,
    private readonly stages: PipelineStages,
    private readonly model: ModelService,
  ) {
    super();
  }

  /** A job taken while the model is still loading (a worker just started) waits for it instead of failing. */
  async process(job: Job): Promise<unknown> {
    await this.model.whenSettled();
    return this.dispatcher.run(QueueName.pipeline, job);
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<PipelineJob> | undefined, error: Error): Promise<void> {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    try {
      await this.stages.markFailed(job.data, `${job.name}: ${error.message}`);
    } catch (err) {
      this.logger.error({ err, jobId: job.id }, 'could not mark the self-edit FAILED');
    }
  }
}
