import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Job } from 'bullmq';
import { JobHandlerRegistry } from 'src/queues/job-handler-registry';
import { JobName, QueueName } from 'src/queues/queue-names';
import { MetricsService } from 'src/observability/metrics.service';

/** Runs a dequeued job through its registered handler, with metrics and logs. */
@Injectable()
export class JobDispatcher implements OnModuleInit {
  private readonly logger = new Logger(JobDispatcher.name);

  constructor(
    private readonly registry: JobHandlerRegistry,
    private readonly metrics: MetricsService,
  ) {}

  /** Fails the boot of a worker whose jobs do not have exactly one handler each. */
  onModuleInit(): void {
    this.registry.build();
  }

  async run(queue: QueueName, job: Job): Promise<unknown> {
    const name = job.name as JobName;
    if (!Object.values(JobName).includes(name)) throw new Error(`Unknown job ${job.name} on queue ${queue}`);
    const handler = this.registry.get(name);
    try {
      const result = await handler(job.data as never, (p) => job.updateProgress(p));
      this.metrics.jobs.inc({ queue, job: name, outcome: 'completed' });
      return result;
    } catch (err) {
      this.metrics.jobs.inc({ queue, job: name, outcome: 'failed' });
      this.logger.error({ err, jobId: job.id, attempt: job.attemptsMade + 1 }, `job ${name} failed`);
      throw err;
    }
  }
}
