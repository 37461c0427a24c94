import { DynamicModule, Global, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { AppConfig } from 'src/config/app-config';
import { JobsService } from 'src/queues/jobs.service';
import { PIPELINE_FLOW, QueueName } from 'src/queues/queue-names';

/** BullMQ on the resolved Redis; producers only. Workers live in WorkerModule. */
@Global()
@Module({})
export class QueuesModule {
  static forRoot(config: AppConfig, redisUrl: string): DynamicModule {
    return {
      module: QueuesModule,
      imports: [
        BullModule.forRoot({
          prefix: config.QUEUE_PREFIX,
          // BullMQ blocks on Redis: it must retry forever rather than fail a command.
          connection: { url: redisUrl, maxRetriesPerRequest: null },
        }),
        ...Object.values(QueueName).map((name) => BullModule.registerQueue({ name })),
        BullModule.registerFlowProducer({ name: PIPELINE_FLOW }),
      ],
      providers: [JobsService],
      exports: [JobsService, BullModule],
    };
  }
}
