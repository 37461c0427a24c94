import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/** The checkpoints of the transparency log the gateway signed, one per tree size, published for auditors. */
export class LogCheckpoints1764075600000 implements MigrationInterface {
  name = 'LogCheckpoints1764075600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'log_checkpoints',
        columns: [
          { ...c.bigint('treeSize'), isPrimary: true },
          c.string('rootHash', 64),
          c.text('note'),
          c.time('createdAt'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('log_checkpoints');
  }
}
