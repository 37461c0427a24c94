import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/** The outbox of reviewers' webhook messages, written with the status change they announce. */
export class WebhookOutbox1764079200000 implements MigrationInterface {
  name = 'WebhookOutbox1764079200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'webhook_outbox',
        columns: [
          { ...c.string('id', 128), isPrimary: true },
          c.ref('selfEditId'),
          c.string('jobId', 160),
          c.text('body'),
          c.time('createdAt'),
          c.time('queuedAt', true),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_outbox');
  }
}
