import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { AuthContext } from 'src/auth/auth-context';
import { KeyLimitError, KeyLimitErrorCode } from 'src/auth/auth.errors';

/** The limits' own Redis connection (KeyLimitsModule). */
export const KEY_LIMITS_REDIS = Symbol('KEY_LIMITS_REDIS');

/**
 * A key's two token buckets: `rate` for generation (ServingService: /v1, generate, answer, generateStream) and
 * `calls` for every other authenticated GraphQL operation and HTTP call (AuthGuard), one take per request.
 */
export type KeyBucket = 'rate' | 'calls';

/**
 * Token bucket in Redis (shared by every api replica); Redis's clock, so replicas' clocks do not matter.
 * Returns the wait before a token is due (0: taken) and the whole tokens left.
 */
const TAKE_TOKEN = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return { wait, math.floor(tokens) }
`;

/** A stream lease: a member of the key's sorted set, scored by when it lapses (a crashed replica's leases lapse). */
const OPEN_STREAM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
`;

/** A stream can run no longer than this before its lease lapses on its own. */
const STREAM_LEASE_MS = 10 * 60_000;

/** The scripts as commands: ioredis sends EVALSHA (40 bytes, not the script) and loads a script Redis lacks. */
interface LimitCommands {
  takeToken(key: string, rate: number, burst: number): Promise<[number, number]>;
  openStream(key: string, max: number, leaseMs: number, lease: string): Promise<number>;
}

/** Keys whose last bucket reading this replica keeps (see `reserveRequest`); the oldest reading goes first. */
const MAX_BUCKET_READINGS = 10_000;

/** What this replica knows of a key's bucket: whole tokens left at its last answer, and takes not answered yet. */
interface BucketReading {
  tokens: number;
  pending: number;
}

/**
 * Limits per API key: request rates (token buckets: generation, and every other call), tokens per request and
 * concurrent streams. Each is the key's own override where an admin set one (setApiKeyLimits), else the
 * configured default (KEY_*). Counted in Redis so every api replica sees the same numbers.
 */
@Injectable()
export class KeyLimitsService implements OnModuleDestroy {
  private readonly commands: LimitCommands;
  private readonly readings = new Map<string, BucketReading>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(KEY_LIMITS_REDIS) private readonly redis: Redis,
  ) {
    redis.defineCommand('takeToken', { numberOfKeys: 1, lua: TAKE_TOKEN });
    redis.defineCommand('openStream', { numberOfKeys: 1, lua: OPEN_STREAM });
    this.commands = redis as unknown as LimitCommands;
  }

  async onModuleDestroy(): Promise<void> {
    // A connection never used (a worker, which serves no API) was never opened: QUIT would open it.
    if (this.redis.status === 'wait') this.redis.disconnect();
    else await this.redis.quit().catch(() => undefined);
  }

  /**
   * Whether the key's bucket, as this replica last read it, holds a token for one more request beside the takes
   * it has not had answered yet. If so the token is counted here as taken: the caller may start the request's
   * work before `takeRequest(auth, true)`, which it must call, answers (and must stop that work on a refusal).
   * Only another replica's takes in between can make such a request be refused; a key this replica has not
   * read yet, or read empty, is never reserved for.
   */
  reserveRequest(auth: AuthContext): boolean {
    const reading = this.readings.get(this.key(auth, 'rate'));
    if (!reading || reading.tokens - reading.pending < 1) return false;
    reading.pending++;
    return true;
  }

  /**
   * Takes one generation request from the key's bucket, or refuses with RATE_LIMITED and when to retry.
   * `reserved`: the request was counted by `reserveRequest`.
   */
  takeRequest(auth: AuthContext, reserved = false): Promise<void> {
    return this.take(auth, 'rate', reserved);
  }

  /**
   * Takes one call (a GraphQL operation or an HTTP request other than generation) from the key's `calls`
   * bucket, or refuses with RATE_LIMITED and when to retry.
   */
  takeCall(auth: AuthContext): Promise<void> {
    return this.take(auth, 'calls', false);
  }

  private async take(auth: AuthContext, bucket: KeyBucket, reserved: boolean): Promise<void> {
    const { rate, burst, limit } = this.rateOf(auth, bucket);
    const key = this.key(auth, bucket);
    const reading = this.reading(key);
    if (!reserved) reading.pending++;
    let waitMs: number;
    try {
      const [wait, tokens] = (await this.commands.takeToken(key, rate, burst)).map(Number);
      waitMs = wait;
      reading.tokens = tokens;
    } finally {
      reading.pending--;
    }
    if (waitMs > 0) {
      throw new KeyLimitError(
        KeyLimitErrorCode.RATE_LIMITED,
        `${bucket === 'rate' ? 'generation' : 'API call'} rate limit of ${+rate.toFixed(4)} requests/s (burst ${burst}) for this API key reached; retry in ${Math.ceil(waitMs / 1000)} s`,
        { limit, ratePerSecond: rate, burst, retryAfterSeconds: Math.ceil(waitMs / 1000) },
      );
    }
  }

  checkMaxTokens(auth: AuthContext, maxTokens: number): void {
    const own = auth.keyLimits?.maxTokensPerRequest ?? null;
    const limit = own ?? this.config.KEY_MAX_TOKENS_PER_REQUEST;
    if (maxTokens > limit) {
      throw new KeyLimitError(
        KeyLimitErrorCode.MAX_TOKENS_EXCEEDED,
        `max_tokens ${maxTokens} is over the per-request limit of ${limit} for this API key`,
        {
          limit: own === null ? 'KEY_MAX_TOKENS_PER_REQUEST' : 'apiKey.maxTokensPerRequest',
          maxTokens: limit,
        },
      );
    }
  }

  /** Holds one of the key's stream places until the returned release is called. */
  async openStream(auth: AuthContext): Promise<() => Promise<void>> {
    const own = auth.keyLimits?.maxConcurrentStreams ?? null;
    const max = own ?? this.config.KEY_MAX_CONCURRENT_STREAMS;
    const key = this.key(auth, 'streams');
    const lease = randomUUID();
    const granted = Number(await this.commands.openStream(key, max, STREAM_LEASE_MS, lease));
    if (!granted) {
      throw new KeyLimitError(
        KeyLimitErrorCode.TOO_MANY_STREAMS,
        `this API key already has ${max} concurrent streams open (the limit); close one or retry later`,
        {
          limit: own === null ? 'KEY_MAX_CONCURRENT_STREAMS' : 'apiKey.maxConcurrentStreams',
          maxStreams: max,
          retryAfterSeconds: 1,
        },
      );
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      // A lease that cannot be removed (Redis gone, shutting down) lapses on its own: never fail the request.
      await this.redis.zrem(key, lease).catch(() => undefined);
    };
  }

  /**
   * One of the key's token buckets: its own requests per minute R (which sets both buckets) refill R/60 a second
   * into a bucket of at most R or the bucket's default burst, whichever is less (so a low R never allows a burst
   * above it); else the defaults: KEY_RATE_* for generation, KEY_API_RATE_* for every other call.
   */
  private rateOf(auth: AuthContext, bucket: KeyBucket): { rate: number; burst: number; limit: string } {
    const defaults =
      bucket === 'rate'
        ? {
            rate: this.config.KEY_RATE_PER_SECOND,
            burst: this.config.KEY_RATE_BURST,
            limit: 'KEY_RATE_PER_SECOND',
          }
        : {
            rate: this.config.KEY_API_RATE_PER_SECOND,
            burst: this.config.KEY_API_RATE_BURST,
            limit: 'KEY_API_RATE_PER_SECOND',
          };
    const perMinute = auth.keyLimits?.requestsPerMinute ?? null;
    if (perMinute === null) return defaults;
    return {
      rate: perMinute / 60,
      burst: Math.min(perMinute, defaults.burst),
      limit: 'apiKey.requestsPerMinute',
    };
  }

  /** The key's reading, made the newest (a map keeps insertion order, so the first is the oldest). */
  private reading(key: string): BucketReading {
    const reading = this.readings.get(key) ?? { tokens: 0, pending: 0 };
    this.readings.delete(key);
    this.readings.set(key, reading);
    if (this.readings.size > MAX_BUCKET_READINGS) {
      // The oldest without pending takes: a reserved token stays counted until its take answers.
      for (const [k, r] of this.readings) {
        if (r.pending === 0) {
          this.readings.delete(k);
          break;
        }
      }
    }
    return reading;
  }

  private key(auth: AuthContext, what: KeyBucket | 'streams'): string {
    // A request without a key id (none today: every caller authenticates with a key) counts per principal.
    return `${this.config.QUEUE_PREFIX}:limits:${what}:${auth.apiKeyId ?? `principal:${auth.principal.id}`}`;
  }
}
