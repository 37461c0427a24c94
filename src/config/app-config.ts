import { availableParallelism } from 'node:os';
import { z } from 'zod';

/** Every setting the process reads, validated once at boot; a bad value stops the process and is named. */
const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((v) => protocols.some((p) => v.startsWith(`${p}://`)), {
      message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
    })
    .optional();

const intFromEnv = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const appConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: intFromEnv(3000, 0, 65535),
  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: optionalUrl(['postgres', 'postgresql']),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier')
    .default('public'),
  SQLITE_PATH: z.string().min(1).optional(),
  MIGRATIONS_RUN: z.enum(['true', 'false']).default('true'),
  REDIS_URL: optionalUrl(['redis', 'rediss']),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+$/)
    .default('sealgate'),
  POLICY_FILE: z.string().min(1).default('policies/access.yaml'),
  CHANNEL_POLICY_FILE: z.string().min(1).default('policies/channels.yaml'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  GRAPHQL_MAX_DEPTH: intFromEnv(8, 2, 64),
  GRAPHQL_MAX_COMPLEXITY: intFromEnv(2000, 10, 1_000_000),
  GRAPHQL_MAX_FIELDS: intFromEnv(500, 10, 100_000),
  REQUEST_BODY_LIMIT_KB: intFromEnv(256, 1, 65536),
  AUDIT_VERIFY_EVERY_MINUTES: intFromEnv(60, 0, 10080),
  SHUTDOWN_GRACE_SECONDS: intFromEnv(30, 1, 3600),
  MODEL_DIR: z.string().min(1).default('models/default'),
  // onnxruntime's intra-op threads: every core (see docs/configuration.md for what was measured).
  INFERENCE_THREADS: intFromEnv(availableParallelism(), 1, 256),
  ADAPTER_CACHE_MB: intFromEnv(256, 1, 1_048_576),
  ADAPTER_MAX_MB: intFromEnv(64, 1, 65_536),
  GENERATION_MAX_TOKENS: intFromEnv(256, 1, 32_768),
  /** The transparency log's name in its signed checkpoints (no spaces or "+"). */
  TRANSPARENCY_LOG_ORIGIN: z
    .string()
    .regex(/^[^\s+]+$/, 'must have no spaces or "+"')
    .default('sealgate.local/lineage'),
  /** Attempts of a pipeline stage before its edit is FAILED, and the first retry delay (doubling each time). */
  PIPELINE_ATTEMPTS: intFromEnv(5, 1, 100),
  PIPELINE_BACKOFF_MS: intFromEnv(2_000, 1, 3_600_000),
  /**
   * Reviewers' webhook: when set, every edit that reaches AWAITING_APPROVAL is POSTed there, signed the Standard
   * Webhooks way with REVIEW_WEBHOOK_SECRET (`whsec_` + base64 of the key), retried with exponential backoff.
   */
  REVIEW_WEBHOOK_URL: optionalUrl(['http', 'https']),
  REVIEW_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, 'must be whsec_ followed by a base64 key of 24 bytes or more')
    .optional(),
  REVIEW_WEBHOOK_ATTEMPTS: intFromEnv(10, 1, 100),
  REVIEW_WEBHOOK_BACKOFF_MS: intFromEnv(5_000, 1, 3_600_000),
  REVIEW_WEBHOOK_TIMEOUT_MS: intFromEnv(10_000, 100, 300_000),
  SERVING_MAX_BATCH: intFromEnv(32, 1, 1024),
  SERVING_INFERENCE_THREAD: z.enum(['true', 'false']).default('true'),
  SERVING_MAX_QUEUE: intFromEnv(256, 0, 100_000),
  SERVING_RETRY_AFTER: intFromEnv(1, 1, 3600),
  KEY_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(20),
  KEY_RATE_BURST: intFromEnv(40, 1, 1_000_000),
  KEY_API_RATE_PER_SECOND: z.coerce.number().positive().max(1_000_000).default(100),
  KEY_API_RATE_BURST: intFromEnv(300, 1, 1_000_000),
  KEY_MAX_TOKENS_PER_REQUEST: intFromEnv(256, 1, 32_768),
  KEY_MAX_CONCURRENT_STREAMS: intFromEnv(4, 1, 100_000),
  AUTH_CACHE_TTL_MS: intFromEnv(5_000, 0, 60_000),
});

export type AppConfig = z.infer<typeof appConfigSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the environment (empty strings count as unset) and fails naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const relevant = Object.fromEntries(
    Object.keys(appConfigSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = appConfigSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  if (parsed.data.REVIEW_WEBHOOK_URL && !parsed.data.REVIEW_WEBHOOK_SECRET) {
    throw new ConfigError(['REVIEW_WEBHOOK_SECRET: required when REVIEW_WEBHOOK_URL is set']);
  }
  return parsed.data;
}

export const APP_CONFIG = Symbol('APP_CONFIG');
