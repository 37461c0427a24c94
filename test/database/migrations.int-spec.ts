import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from 'src/config/app-config';
import { buildDataSourceOptions } from 'src/app/database-options';
import { freshPostgresSchema, freshSqliteFile } from 'test/support/databases';

/** Migrations are the only way the schema changes; they must match the entities exactly, both ways, on both drivers. */
describe.each([
  ['PostgreSQL', freshPostgresSchema],
  ['SQLite', freshSqliteFile],
])('migrations on %s', (_name, freshEnv) => {
  let dataSource: DataSource;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const env = await freshEnv();
    dispose = env.dispose;
    dataSource = new DataSource(buildDataSourceOptions(loadConfig(env.env)));
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
    await dispose();
  });

  const tableNames = async (): Promise<string[]> => {
    const sql =
      dataSource.options.type === 'postgres'
        ? 'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()'
        : "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence'";
    const rows: { name: string }[] = await dataSource.query(sql);
    return rows.map((r) => r.name);
  };

  it('runs up to a schema that matches the entities', async () => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.length).toBeGreaterThan(0);
    const pending = await dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
    expect(await tableNames()).toEqual(expect.arrayContaining(['principals', 'self_edits', 'audit_events']));
  });

  it('runs down to an empty schema and up again', async () => {
    const executed: unknown[] = await dataSource.query('SELECT * FROM migrations');
    for (let i = 0; i < executed.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
    expect((await tableNames()).filter((t) => t !== 'migrations')).toEqual([]);
    await dataSource.runMigrations({ transaction: 'each' });
    expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);
  });
});
