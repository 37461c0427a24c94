import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/**
 * Surgical reverts: a version built by taking one edit out of the middle of a stack records what it removed,
 * what it carries and why (adapter status SUPERSEDED needs no schema change: statuses are strings).
 */
export class AdapterReverts1764061200000 implements MigrationInterface {
  name = 'AdapterReverts1764061200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    await queryRunner.addColumn('adapter_versions', new TableColumn(c.json('revert', true)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('adapter_versions', 'revert');
  }
}
