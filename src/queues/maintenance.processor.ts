import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { QueueName } from 'src/queues/queue-names';

/** Consumes the maintenance queue. On shutdown @nestjs/bullmq closes the worker, which waits for running jobs. */
@Processor(QueueName.maintenance, { concurrency: 1 })
export class MaintenanceProcessor extends WorkerHost {
  constructor(private readonly dispatcher: JobDispatcher) {
    super();
  }

  process(job: Job): Promise<unknown> {
    return this.dispatcher.run(QueueName.maintenance, job);
  }
}
