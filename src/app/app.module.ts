import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { ValidationPipe } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { ApprovalsModule } from 'src/approvals/approvals.module';
import { AuditModule } from 'src/audit/audit.module';
import { AuthModule } from 'src/auth/auth.module';
import { KeyLimitsModule } from 'src/auth/key-limits.module';
import { PrincipalsService } from 'src/auth/principals.service';
import { ChannelsModule } from 'src/channels/channels.module';
import { AllExceptionsFilter } from 'src/common/errors/all-exceptions.filter';
import { NulCharacterPipe } from 'src/common/nul-character.pipe';
import { graphqlOptions } from 'src/common/graphql/graphql.config';
import { QueryLimitsPlugin } from 'src/common/graphql/query-limits.plugin';
import { DatabaseModule } from 'src/app/database.module';
import { GatesModule } from 'src/gates/gates.module';
import { HealthController } from 'src/health/health.controller';
import { InferenceModule } from 'src/inference/inference.module';
import { KnowledgeModule } from 'src/knowledge/knowledge.module';
import { LineageModule } from 'src/lineage/lineage.module';
import { ObservabilityModule } from 'src/observability/observability.module';
import { QueuesModule } from 'src/queues/queues.module';
import { WorkerModule } from 'src/app/worker.module';
import { SealModule } from 'src/seal/seal.module';
import { SelfEditsModule } from 'src/self-edits/self-edits.module';
import { ServingModule } from 'src/serving/serving.module';

/** `api` serves GraphQL and HTTP; `worker` consumes queues; `embedded` does both in one process. */
export type ProcessMode = 'api' | 'worker' | 'embedded';

export interface AppOptions {
  mode: ProcessMode;
  config: AppConfig;
  redisUrl: string;
}

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }],
      exports: [APP_CONFIG],
    };
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

@Module({})
export class AppModule {
  static forRoot({ mode, config, redisUrl }: AppOptions): DynamicModule {
    const serves = mode !== 'worker';
    const works = mode !== 'api';
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.LOG_LEVEL,
            // A caller's well-formed X-Request-Id is kept so traces join up across services.
            genReqId: (req: IncomingMessage, res: ServerResponse) => {
              const given = req.headers['x-request-id'];
              const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
              res.setHeader('X-Request-Id', id);
              return id;
            },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            autoLogging: {
              ignore: (req: IncomingMessage) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? ''),
            },
          },
        }),
        ObservabilityModule,
        DatabaseModule,
        QueuesModule.forRoot(config, redisUrl),
        AuditModule,
        KeyLimitsModule.forRoot(redisUrl),
        AuthModule,
        ChannelsModule,
        KnowledgeModule,
        SelfEditsModule,
        SealModule,
        GatesModule,
        ApprovalsModule,
        LineageModule,
        InferenceModule,
        ...(serves
          ? [
              GraphQLModule.forRootAsync<ApolloDriverConfig>({
                driver: ApolloDriver,
                inject: [PrincipalsService],
                useFactory: (principals: PrincipalsService) =>
                  graphqlOptions(config, {
                    authenticate: (token) => principals.authenticate(token),
                    onChange: (listener) => principals.onAuthChanged(listener),
                  }),
              }),
            ]
          : []),
        ...(serves ? [ServingModule] : []),
        ...(works ? [WorkerModule] : []),
      ],
      controllers: [HealthController],
      providers: [
        ...(serves ? [QueryLimitsPlugin] : []),
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
        { provide: APP_PIPE, useClass: NulCharacterPipe },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
    };
  }
}
