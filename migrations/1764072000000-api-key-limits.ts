import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/** Per-key limit overrides: null keeps the gateway's configured default (KEY_* settings). */
export class ApiKeyLimits1764072000000 implements MigrationInterface {
  name = 'ApiKeyLimits1764072000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    await queryRunner.addColumns('api_keys', [
      new TableColumn(c.int('requestsPerMinute', true)),
      new TableColumn(c.int('maxTokensPerRequest', true)),
      new TableColumn(c.int('maxConcurrentStreams', true)),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const column of ['maxConcurrentStreams', 'maxTokensPerRequest', 'requestsPerMinute']) {
      await queryRunner.dropColumn('api_keys', column);
    }
  }
}
