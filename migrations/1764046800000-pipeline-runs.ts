import { MigrationInterface, QueryRunner, TableColumn, TableUnique } from 'typeorm';
import { columnsFor } from 'src/database/migration-columns';

/**
 * The gate pipeline: each run of an edit through the gates is numbered (a retry after an infrastructure failure
 * is a new run, and only the latest run's reports and approvals count), and a passage may carry its own
 * questions with reference answers (the target of the SEAL reward).
 */
const RUN_REVIEWER_UNIQUE = new TableUnique({
  name: 'uq_approvals_edit_run_reviewer',
  columnNames: ['selfEditId', 'pipelineRun', 'reviewerId'],
});

export class PipelineRuns1764046800000 implements MigrationInterface {
  name = 'PipelineRuns1764046800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = columnsFor(queryRunner);
    for (const table of ['self_edits', 'gate_reports', 'approvals']) {
      // Existing rows belong to run 1; the default is dropped again because the application sets every value.
      const column = new TableColumn(c.int('pipelineRun'));
      await queryRunner.addColumn(table, new TableColumn({ ...c.int('pipelineRun'), default: 1 }));
      const added = (await queryRunner.getTable(table))!.findColumnByName('pipelineRun')!;
      await queryRunner.changeColumn(table, added, column);
    }
    // A reviewer decides once per run: a new run is a new review.
    await queryRunner.dropUniqueConstraint('approvals', 'uq_approvals_edit_reviewer');
    await queryRunner.createUniqueConstraint('approvals', RUN_REVIEWER_UNIQUE);
    await queryRunner.addColumn('knowledge_sources', new TableColumn(c.json('questions', true)));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('knowledge_sources', 'questions');
    await queryRunner.dropUniqueConstraint('approvals', RUN_REVIEWER_UNIQUE.name!);
    await queryRunner.createUniqueConstraint(
      'approvals',
      new TableUnique({ name: 'uq_approvals_edit_reviewer', columnNames: ['selfEditId', 'reviewerId'] }),
    );
    await queryRunner.dropColumn('approvals', 'pipelineRun');
    await queryRunner.dropColumn('gate_reports', 'pipelineRun');
    await queryRunner.dropColumn('self_edits', 'pipelineRun');
  }
}
