import type { BlobStore } from './blobs/store.ts';
import type { Config } from './config.ts';
import type { Database, Sql } from './db/client.ts';
import type { EmbeddingProvider } from './embedding/provider.ts';
import type { JobRunner } from './ingest/queue.ts';
import type { Logger } from './logger.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { QueryEmbeddingCache } from './search/query-cache.ts';

/** The parts of one process, built once by its composition root; a core function takes the ones it uses. */
export interface Services {
  config: Config;
  logger: Logger;
  db: Database;
  sql: Sql;
  blobs: BlobStore;
  embedder: EmbeddingProvider;
  jobs: JobRunner;
  queryCache: QueryEmbeddingCache;
  rateLimiter: RateLimiter;
}
