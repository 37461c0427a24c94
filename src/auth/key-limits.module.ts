import { DynamicModule, Module } from '@nestjs/common';
import { Redis } from 'ioredis';
import { KEY_LIMITS_REDIS, KeyLimitsService } from 'src/auth/key-limits.service';

/**
 * Per-key limits for every module: AuthGuard takes each call from the key's bucket, serving its generation.
 * Its own Redis connection, since limit checks are short commands that must not queue behind BullMQ's blocking
 * ones; opened at the first check, so a process that serves no API never opens it.
 */
@Module({})
export class KeyLimitsModule {
  static forRoot(redisUrl: string): DynamicModule {
    return {
      module: KeyLimitsModule,
      global: true,
      providers: [
        {
          provide: KEY_LIMITS_REDIS,
          useFactory: () => new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true }),
        },
        KeyLimitsService,
      ],
      exports: [KeyLimitsService, KEY_LIMITS_REDIS],
    };
  }
}
