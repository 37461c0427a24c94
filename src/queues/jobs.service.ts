import { Injectable } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { defaultJobOptions, JobName, JobPayloads, QueueName, queueOfJob } from 'src/queues/queue-names';

/** The one way to put work on a queue, typed by job name. */
@Injectable()
export class JobsService {
  private readonly queues: Record<QueueName, Queue>;

  constructor(@InjectQueue(QueueName.maintenance) maintenance: Queue) {
    this.queues = { [QueueName.maintenance]: maintenance };
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: JobsOptions = {},
  ): Promise<string> {
    const job = await this.queues[queueOfJob[name]].add(name, payload, { ...defaultJobOptions, ...options });
    return job.id ?? '';
  }

  /** For health checks: the Redis connection answers. */
  async ping(): Promise<boolean> {
    const client = (await this.queues[QueueName.maintenance].client) as unknown as Redis;
    return (await client.ping()) === 'PONG';
  }
}
