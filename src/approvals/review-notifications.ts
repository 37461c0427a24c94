import { EventEmitter, on } from 'node:events';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { ReviewWebhook } from 'src/approvals/review-webhook';
import { JobsService } from 'src/queues/jobs.service';
import { QueueName } from 'src/queues/queue-names';
import { SelfEditEntity } from 'src/self-edits/self-edit.entity';

/**
 * Tells reviewers that an edit is waiting for them. The worker publishes on Redis when an edit reaches
 * AWAITING_APPROVAL; every API process relays it to its GraphQL subscribers, so it works across processes.
 * When a reviewers' webhook is configured, the worker also queues its signed delivery (ReviewWebhook).
 */
@Injectable()
export class ReviewNotifications implements OnModuleDestroy {
  private readonly logger = new Logger(ReviewNotifications.name);
  private readonly events = new EventEmitter();
  private readonly channel: string;
  private subscriber?: Promise<Redis>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly jobs: JobsService,
    private readonly webhook: ReviewWebhook,
  ) {
    this.channel = `${config.QUEUE_PREFIX}:reviews:pending`;
    this.events.setMaxListeners(0); // one listener per open subscription
  }

  async onModuleDestroy(): Promise<void> {
    if (this.subscriber) (await this.subscriber).disconnect();
  }

  /** Worker side, in the transaction that moves an edit to AWAITING_APPROVAL: its webhook message, if any. */
  stage(manager: EntityManager, edit: SelfEditEntity, channel: string): Promise<void> {
    return this.webhook.stage(manager, edit, channel);
  }

  /** Worker side, after that commit: an edit awaits approval; its webhook message goes to the queue. */
  async publish(edit: SelfEditEntity): Promise<void> {
    await (await this.redis()).publish(this.channel, edit.id);
    if (this.webhook.enabled) await this.webhook.relay();
  }

  /** API side: the ids of edits as they reach AWAITING_APPROVAL, until `signal` aborts. */
  async *pending(signal: AbortSignal): AsyncGenerator<string> {
    await this.listen();
    for await (const [id] of on(this.events, 'pending', { signal }) as AsyncIterable<[string]>) yield id;
  }

  private listen(): Promise<Redis> {
    this.subscriber ??= this.redis().then(async (client) => {
      const subscriber = client.duplicate();
      subscriber.on('message', (_channel: string, id: string) => this.events.emit('pending', id));
      subscriber.on('error', (err: Error) => this.logger.warn({ err }, 'review notifications: Redis error'));
      await subscriber.subscribe(this.channel);
      return subscriber;
    });
    return this.subscriber;
  }

  private async redis(): Promise<Redis> {
    return (await this.jobs.queue(QueueName.maintenance).client) as unknown as Redis;
  }
}
