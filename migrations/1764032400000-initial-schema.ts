import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex, TableUnique } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/** The domain tables of the foundation: principals and keys, knowledge, self-edits, gates, approvals, lineage, audit. */
export class InitialSchema1764032400000 implements MigrationInterface {
  name = 'InitialSchema1764032400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    const fk = (column: string, table: string) =>
      new TableForeignKey({
        columnNames: [column],
        referencedTableName: table,
        referencedColumnNames: ['id'],
        onDelete: 'RESTRICT',
      });
    const index = (...columnNames: string[]) => new TableIndex({ columnNames });

    await queryRunner.createTable(
      new Table({
        name: 'principals',
        columns: [
          c.id(),
          c.string('name', 100),
          c.string('role', 32),
          c.time('createdAt'),
          c.time('disabledAt', true),
        ],
        uniques: [new TableUnique({ columnNames: ['name'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          c.id(),
          c.ref('principalId'),
          c.string('label', 100),
          c.string('prefix', 16),
          c.string('secretHash', 64),
          c.time('createdAt'),
          c.time('expiresAt', true),
          c.time('revokedAt', true),
          c.time('lastUsedAt', true),
        ],
        uniques: [new TableUnique({ columnNames: ['prefix'] })],
        indices: [index('principalId')],
        foreignKeys: [fk('principalId', 'principals')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'channels',
        columns: [
          c.id(),
          c.string('name', 64),
          c.text('description', true),
          c.string('baseModel', 200),
          c.ref('headAdapterId', true),
          c.time('createdAt'),
          c.time('updatedAt'),
          c.int('version'),
        ],
        uniques: [new TableUnique({ columnNames: ['name'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'knowledge_sources',
        columns: [
          c.id(),
          c.string('title', 300),
          c.text('passage'),
          c.string('sourceUri', 2048, true),
          c.json('provenance', true),
          c.string('contentSha256', 64),
          c.ref('submittedById'),
          c.time('createdAt'),
        ],
        indices: [index('contentSha256'), index('submittedById')],
        foreignKeys: [fk('submittedById', 'principals')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'self_edits',
        columns: [
          c.id(),
          c.ref('channelId'),
          c.ref('knowledgeSourceId', true),
          c.string('kind', 32),
          c.string('origin', 16),
          c.text('content'),
          c.string('contentSha256', 64),
          c.json('hyperparameters', true),
          c.string('status', 32),
          c.text('statusReason', true),
          c.ref('proposedById'),
          c.time('createdAt'),
          c.time('updatedAt'),
          c.int('version'),
        ],
        indices: [index('channelId'), index('knowledgeSourceId'), index('status'), index('proposedById')],
        foreignKeys: [
          fk('channelId', 'channels'),
          fk('knowledgeSourceId', 'knowledge_sources'),
          fk('proposedById', 'principals'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'gate_reports',
        columns: [
          c.id(),
          c.ref('selfEditId'),
          c.string('gate', 64),
          c.string('gateVersion', 32),
          c.string('verdict', 8),
          c.json('metrics'),
          c.json('thresholds'),
          c.json('evidence'),
          c.int('durationMs'),
          c.string('sha256', 64),
          c.time('createdAt'),
        ],
        indices: [index('selfEditId')],
        foreignKeys: [fk('selfEditId', 'self_edits')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'approvals',
        columns: [
          c.id(),
          c.ref('selfEditId'),
          c.ref('reviewerId'),
          c.string('decision', 16),
          c.text('comment', true),
          c.time('createdAt'),
        ],
        uniques: [
          new TableUnique({ name: 'uq_approvals_edit_reviewer', columnNames: ['selfEditId', 'reviewerId'] }),
        ],
        indices: [index('selfEditId')],
        foreignKeys: [fk('selfEditId', 'self_edits'), fk('reviewerId', 'principals')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'adapter_versions',
        columns: [
          c.id(),
          c.ref('channelId'),
          c.ref('selfEditId', true),
          c.ref('parentId', true),
          c.string('digest', 64),
          c.string('status', 16),
          c.time('createdAt'),
          c.time('appliedAt', true),
        ],
        uniques: [new TableUnique({ columnNames: ['digest'] })],
        indices: [index('channelId'), index('selfEditId')],
        foreignKeys: [
          fk('channelId', 'channels'),
          fk('selfEditId', 'self_edits'),
          fk('parentId', 'adapter_versions'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { ...c.bigint('seq'), isPrimary: true },
          c.ref('actorId', true),
          c.string('actorName', 100),
          c.string('action', 100),
          c.string('subjectType', 64),
          c.string('subjectId', 64, true),
          c.json('before', true),
          c.json('after', true),
          c.string('requestId', 64, true),
          c.time('at'),
          c.string('prevHash', 64),
          c.string('hash', 64),
        ],
        uniques: [new TableUnique({ columnNames: ['prevHash'] }), new TableUnique({ columnNames: ['hash'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'audit_events',
      'adapter_versions',
      'approvals',
      'gate_reports',
      'self_edits',
      'knowledge_sources',
      'channels',
      'api_keys',
      'principals',
    ]) {
      await queryRunner.dropTable(table);
    }
  }
}
