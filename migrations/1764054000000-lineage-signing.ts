import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex, TableUnique } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/**
 * Signed lineage: the public halves of the gateway's and the approvers' signing keys (private keys never enter
 * the database), the signed statements about adapters, gate reports, approvals and rollbacks, and what each
 * candidate was trained with.
 */
export class LineageSigning1764054000000 implements MigrationInterface {
  name = 'LineageSigning1764054000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'signing_keys',
        columns: [
          c.id(),
          c.string('owner', 100),
          c.string('keyId', 64),
          c.text('publicKeyPem'),
          c.time('createdAt'),
          c.time('retiredAt', true),
        ],
        uniques: [new TableUnique({ name: 'uq_signing_keys_key_id', columnNames: ['keyId'] })],
        indices: [new TableIndex({ columnNames: ['owner'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'attestations',
        columns: [
          c.id(),
          c.string('kind', 32),
          c.string('subjectId', 64),
          c.text('bundle'),
          c.string('sha256', 64),
          c.time('createdAt'),
        ],
        indices: [new TableIndex({ columnNames: ['subjectId'] })],
      }),
    );
    await queryRunner.addColumn('adapter_versions', new TableColumn(c.json('training', true)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('adapter_versions', 'training');
    await queryRunner.dropTable('attestations');
    await queryRunner.dropTable('signing_keys');
  }
}
