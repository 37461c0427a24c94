import { join, resolve, dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DataSourceOptions } from 'typeorm';
import { AppConfig } from 'src/config/app-config';
import { entities } from 'src/app/entities';
import { migrations } from 'migrations/index';

export type DatabaseKind = 'postgres' | 'sqlite';

export function databaseKind(config: AppConfig): DatabaseKind {
  return config.DATABASE_URL ? 'postgres' : 'sqlite';
}

/** PostgreSQL when DATABASE_URL is set; otherwise an embedded SQLite file under DATA_DIR. Never synchronize. */
export function buildDataSourceOptions(config: AppConfig): DataSourceOptions {
  const common = {
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    logging: ['error', 'warn'] as ('error' | 'warn')[],
  };
  if (config.DATABASE_URL) {
    return {
      ...common,
      type: 'postgres',
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      // search_path too, so raw SQL (health checks, locks) lands in the same schema as the entities.
      extra: { max: 10, application_name: 'sealgate', options: `-c search_path=${config.DATABASE_SCHEMA}` },
    };
  }
  const file = resolve(config.SQLITE_PATH ?? join(config.DATA_DIR, 'sealgate.sqlite'));
  mkdirSync(dirname(file), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: file,
    enableWAL: true,
    prepareDatabase: (db: { pragma(sql: string): unknown }) => {
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 5000');
    },
  };
}
