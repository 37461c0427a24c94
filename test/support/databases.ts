import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** The real PostgreSQL the tests use (CI starts it); each suite gets its own schema and drops it afterwards. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestEnv {
  env: NodeJS.ProcessEnv;
  dispose: () => Promise<void>;
}

export async function freshPostgresSchema(): Promise<TestEnv> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.end();
  return {
    env: { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema },
    dispose: async () => {
      const c = new Client({ connectionString: TEST_DATABASE_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

export function freshSqliteFile(): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'sealgate-test-'));
  return Promise.resolve({
    env: { SQLITE_PATH: join(dir, 'sealgate.sqlite'), DATA_DIR: dir },
    dispose: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  });
}
