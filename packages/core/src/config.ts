import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .default('')
  .transform((s) => s === 'true' || s === '1' || s === 'yes');
const optional = z
  .string()
  .optional()
  .transform((s) => (s?.trim() ? s.trim() : undefined));

/** The one schema over the environment. Names and defaults follow MAIA's .env where they overlap. */
export const ConfigSchema = z
  .object({
    PORT: int(0, 65535).default(8000),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATA_DIR: z.string().min(1).default('.data'),
    DATABASE_URL: optional.pipe(z.url({ message: 'must be a postgres:// URL' }).optional()),
    DATABASE_POOL_MAX: int(1, 100).default(10),
    DATABASE_STATEMENT_TIMEOUT_MS: int(0).default(30_000),
    // auto: unnamed statements on an external server, which work behind a transaction pooler (RDS Proxy,
    // PgBouncer) as well as direct; true (named, one parse per connection) only for a direct connection.
    DATABASE_PREPARE: z
      .enum(['auto', 'true', 'false', '1', '0'])
      .default('auto')
      .transform((s) => (s === 'auto' ? s : s === 'true' || s === '1')),
    MIGRATIONS_DIR: optional,
    BLOB_STORE: z.enum(['local', 's3']).default('local'),
    S3_BUCKET: optional,
    S3_ENDPOINT: optional.pipe(z.url().optional()),
    JOB_QUEUE: z.enum(['local', 'sqs']).default('local'),
    SQS_QUEUE_URL: optional.pipe(z.url().optional()),
    AWS_REGION: optional,
    OPENAI_API_KEY: optional,
    OPENAI_BASE_URL: optional.pipe(z.url().optional()),
    EMBEDDING_PROVIDER: z.enum(['auto', 'openai', 'local']).default('auto'),
    EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
    EMBEDDING_DIMENSIONS: int(1, 4000).default(1536),
    EMBEDDING_CONCURRENCY: int(1, 64).default(4),
    EMBEDDING_TIMEOUT_MS: int(100).default(60_000),
    EMBEDDING_MAX_RETRIES: int(0, 20).default(5),
    // A search waits this long at most for its query embedding (slot, attempts, retries), then answers 502.
    SEARCH_EMBEDDING_TIMEOUT_MS: int(100).default(10_000),
    // Stores this small, or filters this selective, are searched exactly; unset: the engine's measured crossovers (search/plan.ts).
    SEARCH_EXACT_THRESHOLD: int(0).optional(),
    // Maintenance removes cached embeddings (chunks' and queries') unused for this many days; 0 keeps them all.
    EMBEDDING_CACHE_RETENTION_DAYS: int(0, 36_500).default(90),
    CHUNK_SIZE: int(100, 4096).default(800),
    CHUNK_OVERLAP: int(0, 2048).default(400),
    INLINE_MAX_BYTES: int(0).default(50 * 1024),
    INGEST_CONCURRENCY: int(1, 64).default(2),
    INGEST_LEASE_SECONDS: int(5, 3600).default(60),
    // Budgets of one file's extraction and chunking (in a worker thread): past them it fails with invalid_file.
    INGEST_FILE_TIMEOUT_MS: int(100, 3_600_000).default(120_000),
    INGEST_FILE_HEAP_MB: int(32, 16_384).default(512),
    // The whole of one ingestion job (read, extract, embed, write): past it the file fails with last_error and
    // its slot is free again, whatever a stage is waiting for.
    INGEST_JOB_TIMEOUT_MS: int(100, 86_400_000).default(1_800_000),
    API_KEYS: list,
    MAX_FILE_SIZE_BYTES: int(1).default(512 * 1024 * 1024),
    MAX_JSON_BODY_BYTES: int(1024).default(10 * 1024 * 1024),
    LOG_LEVEL: z
      .string()
      .default('info')
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['debug', 'info', 'warn', 'error', 'silent'])),
    CORS_ORIGINS: list,
    RATE_LIMIT_PER_MINUTE: int(0).default(0),
    RATE_LIMIT_STORE: z.enum(['memory', 'postgres']).default('memory'),
    METRICS_NAMESPACE: z.string().min(1).max(255).default('VectorDB'),
    HNSW_EF_SEARCH: int(1, 1000).default(100),
    REWRITE_MODEL: optional,
    ALLOW_OPEN_ACCESS: bool,
  })
  .superRefine((c, ctx) => {
    if (c.CHUNK_OVERLAP > c.CHUNK_SIZE / 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['CHUNK_OVERLAP'],
        message: 'must be at most half of CHUNK_SIZE',
      });
    }
    if (c.BLOB_STORE === 's3' && !c.S3_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is required when BLOB_STORE=s3' });
    }
    if (c.JOB_QUEUE === 'sqs' && !c.SQS_QUEUE_URL) {
      ctx.addIssue({ code: 'custom', path: ['SQS_QUEUE_URL'], message: 'is required when JOB_QUEUE=sqs' });
    }
    if (c.EMBEDDING_PROVIDER === 'openai' && !c.OPENAI_API_KEY) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPENAI_API_KEY'],
        message: 'is required when EMBEDDING_PROVIDER=openai',
      });
    }
  });

export type Config = z.infer<typeof ConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses an environment (process.env by default) into a typed Config, or throws one line naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = readEnv()): Config {
  const result = ConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join('.') || 'environment';
  const value = env[name];
  const shown = value === undefined || /KEY|URL/.test(name) ? '' : ` (got "${value}")`;
  throw new ConfigError(`Invalid configuration: ${name} ${issue.message}${shown}`);
}

/** process.env, with a `.env` file in the working directory filling in what is unset. */
export function readEnv(): Record<string, string | undefined> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}

/** True when HOST only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** The command-line client's settings (flags win over these). */
export const CliConfigSchema = z.object({
  VECTORDB_URL: z.url().default('http://127.0.0.1:8000/v1'),
  VECTORDB_API_KEY: optional,
});

export function loadCliConfig(env: Record<string, string | undefined> = readEnv()) {
  const result = CliConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new ConfigError(`Invalid configuration: ${issue.path.join('.')} ${issue.message}`);
}
