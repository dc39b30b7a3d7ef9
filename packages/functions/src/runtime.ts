import { hasActiveKeys, syncEnvKeys } from '@vsdb/core/auth/keys';
import { createBlobStore } from '@vsdb/core/blobs/store';
import { type Config, isLoopbackHost } from '@vsdb/core/config';
import type { Database } from '@vsdb/core/db/client';
import { createEmbeddingProvider } from '@vsdb/core/embedding/provider';
import { QueueRunner } from '@vsdb/core/ingest/runner';
import { SqsJobQueue, sqsSender } from '@vsdb/core/ingest/sqs-queue';
import { IngestWorker } from '@vsdb/core/ingest/worker';
import type { Logger } from '@vsdb/core/logger';
import { MemoryRateLimiter, PostgresRateLimiter } from '@vsdb/core/rate-limit';
import { QueryEmbeddingCache } from '@vsdb/core/search/query-cache';
import type { AppDeps } from './http/env.ts';

/**
 * Wires the services of one process around an open database: keys, blobs, embedder, ingest worker.
 * `exposed` (Lambda behind API Gateway) means reachable from anywhere whatever HOST says. With
 * JOB_QUEUE=sqs, jobs too large to run in the request go to SQS instead of the in-process worker.
 */
export async function buildDeps(
  config: Config,
  db: Database,
  logger: Logger,
  opts: { exposed?: boolean } = {},
): Promise<AppDeps & { worker: IngestWorker }> {
  await syncEnvKeys(db.sql, config.API_KEYS);
  const openAccess = !(await hasActiveKeys(db.sql));
  const log = logger.child('auth');
  if (openAccess) {
    if ((opts.exposed || !isLoopbackHost(config.HOST)) && !config.ALLOW_OPEN_ACCESS) {
      throw new Error(
        `No API key is configured and ${opts.exposed ? 'this API is public' : `HOST ${config.HOST} is reachable from other machines`}: set API_KEYS ` +
          '(or create keys with `npm run keys -- create --project NAME`), or bind HOST to 127.0.0.1.',
      );
    }
    log.warn('no API key configured: the API is open to anyone who can reach this host');
  }
  const blobs = createBlobStore(config);
  const embedder = createEmbeddingProvider(config, logger);
  const ingest = { config, sql: db.sql, blobs, embedder, logger };
  const worker = new IngestWorker(ingest, { concurrency: config.INGEST_CONCURRENCY });
  const jobs =
    config.JOB_QUEUE === 'sqs'
      ? new QueueRunner(
          ingest,
          new SqsJobQueue(
            config.SQS_QUEUE_URL!,
            sqsSender(config.SQS_QUEUE_URL!, { region: config.AWS_REGION }),
          ),
        )
      : worker;
  return {
    config,
    db,
    sql: db.sql,
    logger,
    blobs,
    embedder,
    jobs,
    openAccess,
    worker,
    queryCache: new QueryEmbeddingCache(),
    rateLimiter:
      config.RATE_LIMIT_STORE === 'postgres' ? new PostgresRateLimiter(db.sql) : new MemoryRateLimiter(),
  };
}
