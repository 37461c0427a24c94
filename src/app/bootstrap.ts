import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule, ProcessMode } from 'src/app/app.module';
import { AppConfig } from 'src/config/app-config';
import { transportErrorHandler } from 'src/common/errors/all-exceptions.filter';
import { MetricsService } from 'src/observability/metrics.service';
import { RedisEndpoint, resolveRedis } from 'src/redis/redis-endpoint';

export interface StartedApp {
  app: INestApplication;
  redis: RedisEndpoint;
  url: string;
  /** Stops accepting work, lets running jobs and requests finish, then stops an embedded Redis. */
  stop(): Promise<void>;
}

/** Builds and starts the gateway in the given mode; used by main.ts and by the end-to-end tests. */
export async function startApp(mode: ProcessMode, config: AppConfig, listen = true): Promise<StartedApp> {
  const redis = await resolveRedis(config, mode === 'embedded');
  let app: NestExpressApplication;
  try {
    app = await NestFactory.create<NestExpressApplication>(
      AppModule.forRoot({ mode, config, redisUrl: redis.url }),
      {
        bodyParser: false,
        bufferLogs: true,
        abortOnError: false,
      },
    );
  } catch (err) {
    await redis.stop();
    throw err;
  }
  app.useLogger(app.get(Logger));
  app.flushLogs();
  const metrics = app.get(MetricsService);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const route = req.path.startsWith('/graphql') ? '/graphql' : req.path;
    const end = metrics.httpRequests.startTimer({ method: req.method, route });
    res.on('finish', () => end({ status: res.statusCode }));
    next();
  });
  app.useBodyParser('json', { limit: config.REQUEST_BODY_LIMIT_KB * 1024 });
  app.use(transportErrorHandler);
  if (listen) await app.listen(config.PORT, config.HOST);
  else await app.init();
  const server = app.getHttpServer() as { address(): { port: number } | string | null };
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  let stopping: Promise<void> | undefined;
  return {
    app,
    redis,
    url: `http://${config.HOST}:${port}`,
    stop: () =>
      (stopping ??= (async () => {
        await app.close();
        await redis.stop();
      })()),
  };
}
