import { Inject, Injectable } from '@nestjs/common';
import { InjectFlowProducer, InjectQueue } from '@nestjs/bullmq';
import { FlowProducer, JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import {
  defaultJobOptions,
  JobName,
  JobPayloads,
  PIPELINE_FLOW,
  QueueName,
  queueOfJob,
} from 'src/queues/queue-names';

/** One job of a chain: it runs after the job it depends on has completed. */
export interface ChainedJob<N extends JobName = JobName> {
  name: N;
  payload: JobPayloads[N];
  /** Unique per job; adding a chain whose ids exist already adds nothing (restarts are idempotent). */
  jobId: string;
}

/** The one way to put work on a queue, typed by job name. */
@Injectable()
export class JobsService {
  private readonly queues: Record<QueueName, Queue>;

  constructor(
    @InjectQueue(QueueName.maintenance) maintenance: Queue,
    @InjectQueue(QueueName.pipeline) pipeline: Queue,
    @InjectQueue(QueueName.webhooks) webhooks: Queue,
    @InjectQueue(QueueName.seal) seal: Queue,
    @InjectFlowProducer(PIPELINE_FLOW) private readonly flows: FlowProducer,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.queues = {
      [QueueName.maintenance]: maintenance,
      [QueueName.pipeline]: pipeline,
      [QueueName.webhooks]: webhooks,
      [QueueName.seal]: seal,
    };
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

  /**
   * Adds jobs that run one after another, first to last, as one BullMQ flow (added atomically). A job that
   * fails for good fails the rest of the chain, so nothing after it runs.
   */
  async enqueueChain(jobs: ChainedJob[]): Promise<void> {
    type Node = Parameters<FlowProducer['add']>[0];
    let node: Node | undefined;
    for (const job of jobs) {
      node = {
        name: job.name,
        queueName: queueOfJob[job.name],
        data: job.payload,
        opts: {
          ...defaultJobOptions,
          attempts: this.config.PIPELINE_ATTEMPTS,
          backoff: { type: 'exponential', delay: this.config.PIPELINE_BACKOFF_MS },
          jobId: job.jobId,
          failParentOnFailure: true,
        },
        children: node ? [node] : undefined,
      };
    }
    if (node) await this.flows.add(node);
  }

  /** For health checks: the Redis connection answers. */
  async ping(): Promise<boolean> {
    const client = (await this.queues[QueueName.maintenance].client) as unknown as Redis;
    return (await client.ping()) === 'PONG';
  }
}
