import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobDispatcher } from 'src/queues/job-dispatcher';
import { QueueName } from 'src/queues/queue-names';

/** Consumes the webhooks queue: a few deliveries at once, since each mostly waits on a remote receiver. */
@Processor(QueueName.webhooks, { concurrency: 4 })
export class WebhooksProcessor extends WorkerHost {
  constructor(private readonly dispatcher: JobDispatcher) {
    super();
  }

  process(job: Job): Promise<unknown> {
    return this.dispatcher.run(QueueName.webhooks, job);
  }
}
