import { EventEmitter, on } from 'node:events';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { JobsService } from 'src/queues/jobs.service';
import { QueueName } from 'src/queues/queue-names';
import { SealRoundEntity } from 'src/seal/rounds/seal-round.entity';

/**
 * Round news over Redis pub/sub, so that it crosses processes as `pendingReviews` does: the worker publishes
 * each change of a round (progress, status) and every API process relays it to its subscribers; the API
 * publishes a cancellation and the worker running that round stops its child process.
 */
@Injectable()
export class SealRoundNotifications implements OnModuleDestroy {
  private readonly logger = new Logger(SealRoundNotifications.name);
  private readonly events = new EventEmitter();
  private readonly changedChannel: string;
  private readonly cancelChannel: string;
  private subscriber?: Promise<Redis>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly jobs: JobsService,
  ) {
    this.changedChannel = `${config.QUEUE_PREFIX}:seal-rounds:changed`;
    this.cancelChannel = `${config.QUEUE_PREFIX}:seal-rounds:cancel`;
    this.events.setMaxListeners(0); // one listener per open subscription or running round
  }

  async onModuleDestroy(): Promise<void> {
    if (this.subscriber) (await this.subscriber).disconnect();
  }

  /**
   * The round's row changed (progress or status): it is published whole, so that a subscriber sees every step in
   * order, however fast they follow each other.
   */
  async publishChanged(round: SealRoundEntity): Promise<void> {
    await (await this.redis()).publish(this.changedChannel, JSON.stringify(round));
  }

  /** API side: the round was cancelled; whichever worker runs it stops. */
  async publishCancel(roundId: string): Promise<void> {
    await (await this.redis()).publish(this.cancelChannel, roundId);
  }

  /** API side: rounds as they change, until `signal` aborts. */
  async *changes(signal: AbortSignal): AsyncGenerator<SealRoundEntity> {
    await this.listen();
    for await (const [message] of on(this.events, 'changed', { signal }) as AsyncIterable<[string]>) {
      yield parseRound(message);
    }
  }

  /** Worker side: calls `onCancel` when round `roundId` is cancelled; returns the function that stops listening. */
  async onCancel(roundId: string, onCancel: () => void): Promise<() => void> {
    const listener = (id: string) => {
      if (id === roundId) onCancel();
    };
    this.events.on('cancel', listener);
    await this.listen();
    return () => this.events.off('cancel', listener);
  }

  private listen(): Promise<Redis> {
    this.subscriber ??= this.redis().then(async (client) => {
      const subscriber = client.duplicate();
      subscriber.on('message', (channel: string, id: string) =>
        this.events.emit(channel === this.cancelChannel ? 'cancel' : 'changed', id),
      );
      subscriber.on('error', (err: Error) =>
        this.logger.warn({ err }, 'seal round notifications: Redis error'),
      );
      await subscriber.subscribe(this.changedChannel, this.cancelChannel);
      return subscriber;
    });
    return this.subscriber;
  }

  private async redis(): Promise<Redis> {
    return (await this.jobs.queue(QueueName.maintenance).client) as unknown as Redis;
  }
}

const TIMES = ['createdAt', 'updatedAt', 'startedAt', 'finishedAt'] as const;

/** A published round, its times as Dates again. */
function parseRound(message: string): SealRoundEntity {
  const round = JSON.parse(message) as SealRoundEntity;
  for (const key of TIMES) {
    const value = round[key] as unknown;
    if (typeof value === 'string') Object.assign(round, { [key]: new Date(value) });
  }
  return round;
}
