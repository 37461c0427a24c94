import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppAbility } from 'src/auth/ability.factory';
import { ApiKeyEntity } from 'src/auth/api-key.entity';
import { PrincipalEntity } from 'src/auth/principal.entity';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { JobsService } from 'src/queues/jobs.service';
import { QueueName } from 'src/queues/queue-names';

/** An API key as authentication needs it: the row with its principal, and the principal's compiled policy. */
export interface KnownKey {
  key: ApiKeyEntity & { principal: PrincipalEntity };
  ability: AppAbility;
}

/**
 * API keys by prefix, so that a request does not pay a database lookup and a policy compile (about a
 * millisecond together, on the path of every product request). Any change to a key or a principal drops every
 * entry, here at once and on every other process through Redis; an entry also lapses after AUTH_CACHE_TTL_MS,
 * which bounds what a lost message (Redis down) or a change made outside the gateway can leave in use.
 *
 * Nothing is kept until this process is subscribed to the changes, and an entry whose lookup raced with a
 * change is not kept either (`generation`), so a revoked key is refused from the moment its revocation is
 * committed here and within a message's delay elsewhere.
 */
@Injectable()
export class ApiKeyCache implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ApiKeyCache.name);
  private readonly entries = new Map<string, { known: KnownKey; until: number }>();
  private readonly listeners = new Set<() => void>();
  private readonly channel: string;
  private readonly ttlMs: number;
  /** Counts invalidations: a lookup that started before one must not be kept. */
  private generation = 0;
  private subscriber?: Promise<Redis | null>;
  private subscribed = false;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly jobs: JobsService,
  ) {
    this.channel = `${config.QUEUE_PREFIX}:auth:changed`;
    this.ttlMs = config.AUTH_CACHE_TTL_MS;
  }

  /**
   * Subscribes at start-up, so that a process's first requests already find the cache on: a lookup that ends
   * before the subscription is not kept. Not awaited, so that a Redis slow to answer does not hold up start-up.
   */
  onApplicationBootstrap(): void {
    this.subscriber ??= this.subscribe();
  }

  /**
   * Calls `listener` after every change to keys or principals, made here or (through Redis) in another process,
   * and whenever changes may have gone unheard (the subscription dropped): open connections authenticated once,
   * such as graphql-ws sockets, check their key again.
   */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  async onModuleDestroy(): Promise<void> {
    (await this.subscriber)?.disconnect();
  }

  /** The key with this prefix from the cache, else from `load` (kept when found and it is safe to). */
  async get(prefix: string, load: () => Promise<KnownKey | null>): Promise<KnownKey | null> {
    if (this.ttlMs === 0) return load();
    this.subscriber ??= this.subscribe();
    const hit = this.entries.get(prefix);
    if (hit && hit.until > Date.now()) return hit.known;
    const generation = this.generation;
    const known = await load();
    if (known && this.subscribed && generation === this.generation) {
      this.entries.set(prefix, { known, until: Date.now() + this.ttlMs });
    }
    if (!known) this.entries.delete(prefix);
    return known;
  }

  /** After a committed change to keys or principals: drops every entry here and in every other process. */
  async changed(): Promise<void> {
    this.clear();
    try {
      await (await this.redis()).publish(this.channel, '1');
    } catch (err) {
      // The change is committed; other processes drop their entries within AUTH_CACHE_TTL_MS anyway.
      this.logger.warn({ err }, 'could not tell other processes that API keys changed');
    }
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
    for (const listener of this.listeners) listener();
  }

  private async subscribe(): Promise<Redis | null> {
    try {
      const subscriber = (await this.redis()).duplicate();
      subscriber.on('message', () => this.clear());
      // While not subscribed, changes elsewhere go unheard: keep nothing until subscribed again.
      subscriber.on('close', () => {
        this.subscribed = false;
        this.clear();
      });
      // Subscribed again after a reconnect (a failure shows as 'error' and leaves the cache off until then).
      subscriber.on('ready', () => {
        subscriber.subscribe(this.channel).then(
          () => (this.subscribed = true),
          () => undefined,
        );
      });
      subscriber.on('error', (err: Error) => this.logger.warn({ err }, 'API key cache: Redis error'));
      await subscriber.subscribe(this.channel);
      this.subscribed = true;
      return subscriber;
    } catch (err) {
      this.logger.warn({ err }, 'API key cache: not subscribed, keys are looked up each time');
      return null;
    }
  }

  private async redis(): Promise<Redis> {
    return (await this.jobs.queue(QueueName.maintenance).client) as unknown as Redis;
  }
}
