import { Logger } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { QueueName, SealRoundJob } from 'src/queues/queue-names';
import { SealRoundJobs } from 'src/seal/rounds/seal-round.jobs';

/**
 * Consumes the seal queue one round at a time (a round uses every core it is given). A round's lock is renewed
 * while its child runs; when a worker dies the job is retried and the round resumes from its checkpoint. When the
 * last attempt fails, the round is FAILED.
 */
@Processor(QueueName.seal, { concurrency: 1 })
export class SealProcessor extends WorkerHost {
  private readonly logger = new Logger(SealProcessor.name);

  constructor(
    private readonly dispatcher: JobDispatcher,
    private readonly rounds: SealRoundJobs,
  ) {
    super();
  }

  process(job: Job): Promise<unknown> {
    return this.dispatcher.run(QueueName.seal, job);
  }

  @OnWorkerEvent('failed')
  async onFailed(job: Job<SealRoundJob> | undefined, error: Error): Promise<void> {
    if (!job || job.attemptsMade < (job.opts.attempts ?? 1)) return;
    try {
      await this.rounds.markFailed(job.data, `${job.name}: ${error.message}`);
    } catch (err) {
      this.logger.error({ err, jobId: job.id }, 'could not mark the round FAILED');
    }
  }
}
