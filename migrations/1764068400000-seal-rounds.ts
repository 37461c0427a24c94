import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/**
 * ReST-EM rounds: what was asked, how far it got, what it kept, and the self-edit that carries its generator
 * update through the lifecycle (self-edit kind `generator` needs no schema change: kinds are strings).
 */
export class SealRounds1764068400000 implements MigrationInterface {
  name = 'SealRounds1764068400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    const fk = (column: string, table: string) =>
      new TableForeignKey({
        columnNames: [column],
        referencedTableName: table,
        referencedColumnNames: ['id'],
        onDelete: 'RESTRICT',
      });
    await queryRunner.createTable(
      new Table({
        name: 'seal_rounds',
        columns: [
          c.id(),
          c.ref('channelId'),
          c.ref('parentAdapterId', true),
          c.string('status', 16),
          c.json('settings'),
          c.json('progress', true),
          c.json('result', true),
          c.text('error', true),
          c.ref('selfEditId', true),
          c.ref('startedById'),
          c.int('attempts'),
          c.time('createdAt'),
          c.time('updatedAt'),
          c.time('startedAt', true),
          c.time('finishedAt', true),
        ],
        indices: ['channelId', 'status', 'selfEditId', 'startedById'].map(
          (column) => new TableIndex({ columnNames: [column] }),
        ),
        foreignKeys: [
          fk('channelId', 'channels'),
          fk('selfEditId', 'self_edits'),
          fk('startedById', 'principals'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('seal_rounds');
  }
}
