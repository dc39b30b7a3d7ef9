import { hasActiveKeys, syncEnvKeys } from './auth/keys.ts';
import { type BlobStore, createBlobStore } from './blobs/store.ts';
import { type Config, isLoopbackHost } from './config.ts';
import { type Database, openDatabase, type Sql } from './db/client.ts';
import { assertDimensions } from './db/migrate.ts';
import { prepareDatabase } from './db/setup.ts';
import { createEmbeddingProvider, type EmbeddingProvider } from './embedding/provider.ts';
import type { JobQueue, JobRunner } from './ingest/queue.ts';
import { QueueRunner } from './ingest/runner.ts';
import { SqsJobQueue, sqsSender } from './ingest/sqs-queue.ts';
import { IngestWorker } from './ingest/worker.ts';
import { createLogger, type Logger } from './logger.ts';
import { type Metrics, metrics } from './metrics.ts';
import { MemoryRateLimiter, PostgresRateLimiter, type RateLimiter } from './rate-limit.ts';
import { QueryEmbeddingCache } from './search/query-cache.ts';

/**
 * What a process is: `server` is `npm start` (and the tests' app), `api`/`worker`/`maintenance` the Lambda
 * functions, `migrate` anything that manages the schema itself (the migrate function, `npm run migrate`,
 * `npm run doctor`), `cli` a command that needs a migrated database (`npm run keys`).
 */
export type Role = 'server' | 'api' | 'worker' | 'maintenance' | 'migrate' | 'cli';
type ToolRole = 'migrate' | 'cli';

/** What every process has. */
export interface BaseServices {
  role: Role;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  db: Database;
  sql: Sql;
  blobs: BlobStore;
  /** Stops the worker pool (if any), then closes the database. */
  close(): Promise<void>;
}

/** The parts of a process that serves or ingests; a core function takes the ones it uses (`Pick<Services, ...>`). */
export interface Services extends BaseServices {
  embedder: EmbeddingProvider;
  /** Wakes whoever runs ingest jobs (the worker pool, or SQS); throws when it cannot. */
  queue: JobQueue;
  /** Runs a job in the caller's time, or queues jobs (a queue failure is only logged: maintenance re-queues). */
  jobs: JobRunner;
  queryCache: QueryEmbeddingCache;
  rateLimiter: RateLimiter;
  /** No key configured: every request belongs to the default project (only allowed on a loopback HOST). */
  openAccess: boolean;
}

/** The local server's: its in-process worker pool, started once it serves. */
export interface ServerServices extends Services {
  worker: IngestWorker;
}

export interface ServiceOptions {
  /** An open database to use instead of opening one (tests; a Lambda container's second role). */
  db?: Database;
  logger?: Logger;
}

/** The one composition root: builds a process's services for its role. */
export function createServices(
  config: Config,
  role: 'server',
  opts?: ServiceOptions,
): Promise<ServerServices>;
export function createServices(config: Config, role: ToolRole, opts?: ServiceOptions): Promise<BaseServices>;
export function createServices(
  config: Config,
  role: 'api' | 'worker' | 'maintenance',
  opts?: ServiceOptions,
): Promise<Services>;
export async function createServices(
  config: Config,
  role: Role,
  opts: ServiceOptions = {},
): Promise<BaseServices | Services> {
  // The Lambda roles log JSON lines (CloudWatch reads their fields); `migrate` is one too, the CLIs log nothing.
  const json = role === 'api' || role === 'worker' || role === 'maintenance' || role === 'migrate';
  const logger = opts.logger ?? createLogger({ level: config.LOG_LEVEL, json });
  const db = opts.db ?? (await openFor(config, role, logger));
  try {
    return await assemble(config, role, logger, db);
  } catch (err) {
    if (!opts.db) await db.close();
    throw err;
  }
}

async function assemble(config: Config, role: Role, logger: Logger, db: Database) {
  const blobs = createBlobStore(config);
  const base: BaseServices = {
    role,
    config,
    logger,
    metrics,
    db,
    sql: db.sql,
    blobs,
    close: () => db.close(),
  };
  if (role === 'migrate' || role === 'cli') return base;
  const openAccess =
    role === 'server' || role === 'api' ? await checkAccess(config, db.sql, logger, role) : false;
  const embedder = createEmbeddingProvider(config, logger);
  const ingest = { config, sql: db.sql, blobs, embedder, logger };
  // The one place the job queue is chosen. Only the local server keeps a worker pool; a Lambda function
  // runs small jobs in its request and wakes the worker function through SQS.
  const worker =
    role === 'server'
      ? new IngestWorker(ingest, {
          concurrency: config.INGEST_CONCURRENCY,
          // The embedded engine runs one statement at a time: one job writes, so a read waits behind one.
          writers: db.kind === 'embedded' ? 1 : config.INGEST_CONCURRENCY,
        })
      : undefined;
  const queue: JobQueue =
    config.JOB_QUEUE === 'sqs'
      ? new SqsJobQueue(
          config.SQS_QUEUE_URL!,
          sqsSender(config.SQS_QUEUE_URL!, { region: config.AWS_REGION }),
        )
      : (worker ?? { enqueue: async () => {} }); // a Lambda function without SQS has nothing to wake
  const jobs = queue === worker ? worker : new QueueRunner(ingest, queue);
  const services: Services = {
    ...base,
    embedder,
    queue,
    jobs,
    openAccess,
    queryCache: new QueryEmbeddingCache(),
    rateLimiter:
      config.RATE_LIMIT_STORE === 'postgres' ? new PostgresRateLimiter(db.sql) : new MemoryRateLimiter(),
    close: async () => {
      await worker?.stop();
      await db.close();
    },
  };
  return worker ? { ...services, worker } : services;
}

/**
 * The database a role opens. On AWS the schema belongs to the migration function, so the other functions only
 * check it matches the config; the server and the CLIs migrate it themselves.
 */
async function openFor(config: Config, role: Role, logger: Logger): Promise<Database> {
  if (role === 'migrate') return openDatabase(config);
  if (role === 'server' || role === 'cli') return prepareDatabase(config, logger);
  if (!config.DATABASE_URL) {
    // The Lambda bundles leave PGlite out: say so before anything tries to create DATA_DIR on a read-only disk.
    await import('@electric-sql/pglite').catch((err: { code?: string }) => {
      throw err.code === 'ERR_MODULE_NOT_FOUND'
        ? new Error('DATABASE_URL is not set, and this bundle has no embedded database (PGlite).')
        : err;
    });
    return prepareDatabase(config, logger);
  }
  const db = await openDatabase(config);
  try {
    await assertDimensions(db.sql, config.EMBEDDING_DIMENSIONS);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/**
 * Syncs API_KEYS into the database and says whether the API runs open (no key at all). Open is refused
 * unless ALLOW_OPEN_ACCESS where others can reach it: behind API Gateway whatever HOST says, or on a
 * HOST that is not loopback.
 */
async function checkAccess(
  config: Config,
  sql: Sql,
  logger: Logger,
  role: 'server' | 'api',
): Promise<boolean> {
  await syncEnvKeys(sql, config.API_KEYS);
  if (await hasActiveKeys(sql)) return false;
  const exposed = role === 'api';
  if ((exposed || !isLoopbackHost(config.HOST)) && !config.ALLOW_OPEN_ACCESS) {
    throw new Error(
      `No API key is configured and ${exposed ? 'this API is public' : `HOST ${config.HOST} is reachable from other machines`}: set API_KEYS ` +
        '(or create keys with `npm run keys -- create --project NAME`), or bind HOST to 127.0.0.1.',
    );
  }
  logger.child('auth').warn('no API key configured: the API is open to anyone who can reach this host');
  return true;
}
