import { type BlobStore, createBlobStore } from '@vsdb/core/blobs/store';
import { type Config, loadConfig, readEnv } from '@vsdb/core/config';
import { type Database, openDatabase } from '@vsdb/core/db/client';
import { assertDimensions } from '@vsdb/core/db/migrate';
import { prepareDatabase } from '@vsdb/core/db/setup';
import { createEmbeddingProvider } from '@vsdb/core/embedding/provider';
import type { IngestDeps } from '@vsdb/core/ingest/pipeline';
import type { JobQueue } from '@vsdb/core/ingest/queue';
import { SqsJobQueue, sqsSender } from '@vsdb/core/ingest/sqs-queue';
import { createLogger, type Logger } from '@vsdb/core/logger';
import { linkedEnv } from './links.ts';

/** What one Lambda container keeps between invocations: config, one postgres.js client, blobs, embedder, queue. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  blobs: BlobStore;
  queue: JobQueue;
  ingest: IngestDeps;
}

let current: Promise<Services> | undefined;

/** The container's services, created on first use (a failure is retried by the next invocation). */
export function services(): Promise<Services> {
  current ??= create().catch((err) => {
    current = undefined;
    throw err;
  });
  return current;
}

/** Closes the database and forgets the services (tests; a container is otherwise just frozen). */
export async function disposeServices(): Promise<void> {
  const s = current;
  current = undefined;
  await (await s?.catch(() => undefined))?.db.close();
}

/** The config every handler reads: the environment, with SST's linked resources filled in. */
export function lambdaConfig(): Config {
  return loadConfig(linkedEnv(readEnv()));
}

async function create(): Promise<Services> {
  const config = lambdaConfig();
  const logger = createLogger({ level: config.LOG_LEVEL, json: true });
  const db = await openServiceDatabase(config, logger);
  const blobs = createBlobStore(config);
  const embedder = createEmbeddingProvider(config, logger);
  const queue: JobQueue =
    config.JOB_QUEUE === 'sqs'
      ? new SqsJobQueue(
          config.SQS_QUEUE_URL!,
          sqsSender(config.SQS_QUEUE_URL!, { region: config.AWS_REGION }),
        )
      : { enqueue: async () => {} }; // nothing to wake: the worker handler is invoked by its events
  return { config, logger, db, blobs, queue, ingest: { config, sql: db.sql, blobs, embedder, logger } };
}

/**
 * On AWS the schema belongs to the migration function: only check it matches the config. Outside AWS (no
 * DATABASE_URL) the embedded database is opened and migrated like `npm start` does.
 */
async function openServiceDatabase(config: Config, logger: Logger): Promise<Database> {
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
