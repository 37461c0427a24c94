import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { buildDataSourceOptions } from 'src/app/database-options';
import { DatabasePing } from 'src/database/database-ping';
import { TransactionRunner } from 'src/database/transaction-runner';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...buildDataSourceOptions(config),
        migrationsRun: config.MIGRATIONS_RUN === 'true',
        migrationsTransactionMode: 'each' as const,
      }),
    }),
  ],
  providers: [TransactionRunner, DatabasePing],
  exports: [TransactionRunner, DatabasePing],
})
export class DatabaseModule {}
