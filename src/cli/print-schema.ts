import { GraphQLSchemaHost } from '@nestjs/graphql';
import { printSchema as print } from 'graphql';
import { INestApplication } from '@nestjs/common';
import { startApp } from 'src/app/bootstrap';
import { AppConfig } from 'src/config/app-config';

export function schemaSdl(app: INestApplication): string {
  return `${print(app.get(GraphQLSchemaHost).schema)}\n`;
}

export async function printSchema(config: AppConfig): Promise<void> {
  // Silent: logs go to stdout, which holds the schema (a missing model, say, would land in the file).
  const started = await startApp('api', { ...config, LOG_LEVEL: 'silent' }, false);
  try {
    process.stdout.write(schemaSdl(started.app));
  } finally {
    await started.stop();
  }
}
