import { randomBytes } from 'node:crypto';
import { startApp, StartedApp } from 'src/app/bootstrap';
import { AppConfig, loadConfig } from 'src/config/app-config';
import { systemActor } from 'src/common/actor';
import { PrincipalsService } from 'src/auth/principals.service';
import { Role } from 'src/auth/role';
import { ModelService } from 'src/inference/model.service';
import { MODEL_DIR } from 'test/support/model-files';
import { freshPostgresSchema, freshSqliteFile, TEST_REDIS_URL, TestEnv } from 'test/support/databases';

export type Db = 'postgres' | 'sqlite';

export interface GqlResult<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; reason?: string; [k: string]: unknown } }[];
}

/** The started gateway (API + worker) on a fresh database and queue prefix, with a GraphQL client. */
/** A gateway's configuration for tests: the given database, the test Redis under a fresh queue prefix, quiet. */
export function testConfig(env: TestEnv, overrides: NodeJS.ProcessEnv = {}): AppConfig {
  return loadConfig({
    ...env.env,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: `test-${randomBytes(4).toString('hex')}`,
    PORT: '0',
    LOG_LEVEL: 'silent',
    AUDIT_VERIFY_EVERY_MINUTES: '0',
    MODEL_DIR,
    ...overrides,
  });
}

export class TestApp {
  private constructor(
    readonly started: StartedApp,
    private readonly env: TestEnv,
    readonly adminToken: string,
  ) {}

  static async start(db: Db = 'postgres', overrides: NodeJS.ProcessEnv = {}): Promise<TestApp> {
    const env = db === 'postgres' ? await freshPostgresSchema() : await freshSqliteFile();
    const config = testConfig(env, overrides);
    const started = await startApp('embedded', config);
    await started.app.get(ModelService).whenSettled();
    const admin = await started.app.get(PrincipalsService).bootstrapAdmin(systemActor('test'), 'admin');
    return new TestApp(started, env, admin.token);
  }

  get<T>(type: new (...args: never[]) => T): T {
    return this.started.app.get(type);
  }

  async stop(): Promise<void> {
    await this.started.stop();
    await this.env.dispose();
  }

  async gql<T = Record<string, unknown>>(
    token: string | null,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GqlResult<T>> {
    const res = await fetch(`${this.started.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, ...((await res.json()) as Omit<GqlResult<T>, 'status'>) };
  }

  /** A new principal of `role` with a fresh key, created through the API by the admin. */
  async principal(
    role: Role,
    name = `${role}-${randomBytes(3).toString('hex')}`,
  ): Promise<{ id: string; token: string }> {
    const created = await this.gql<{ createPrincipal: { id: string } }>(
      this.adminToken,
      'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { id } }',
      { input: { name, role } },
    );
    const id = created.data!.createPrincipal.id;
    const key = await this.gql<{ createApiKey: { token: string } }>(
      this.adminToken,
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { token } }',
      { input: { principalId: id, label: 'test' } },
    );
    return { id, token: key.data!.createApiKey.token };
  }
}

export const codeOf = (r: GqlResult) => r.errors?.[0]?.extensions?.code;
export const reasonOf = (r: GqlResult) => r.errors?.[0]?.extensions?.reason;
