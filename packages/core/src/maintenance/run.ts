import type { BlobStore } from '../blobs/store.ts';
import type { Sql } from '../db/client.ts';
import { purgeEmbeddingCache } from '../embedding/cache.ts';
import { settleTerms } from '../ingest/chunk-write.ts';
import type { JobQueue, JobRef } from '../ingest/queue.ts';
import { purgeRateLimits } from '../rate-limit.ts';
import type { Services } from '../services.ts';
import { expireUploads } from '../uploads/service.ts';

/** What a maintenance pass needs. */
export type MaintenanceDeps = Pick<Services, 'sql' | 'blobs' | 'queue' | 'logger' | 'config'>;

export interface MaintenanceReport {
  expired_files: number;
  expired_uploads: number;
  cancelled_jobs: number;
  requeued_jobs: number;
  purged_blobs: number;
  purged_embeddings: number;
  /** Transactions of the term backlog worked (a job that stopped after its publish leaves some). */
  settled_terms: number;
}

/** A job nobody claimed for this long after it was queued is queued again (its message was lost or failed). */
const UNCLAIMED_GRACE = '2 minutes';

/** Deletes files past their expires_at (attachments and chunks go with them); their blobs are queued for purging. */
export async function expireFiles(sql: Sql, limit: number): Promise<number> {
  return sql.begin(async (tx) => {
    const rows = await tx<{ blob_key: string }[]>`
      DELETE FROM files WHERE id IN (
        SELECT id FROM files WHERE expires_at <= now() ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING blob_key`;
    if (rows.length) {
      await tx`INSERT INTO deleted_blobs (blob_key) SELECT unnest(${rows.map((r) => r.blob_key)}::text[])
               ON CONFLICT DO NOTHING`;
    }
    return rows.length;
  });
}

/** Stops ingesting into expired stores: their in-progress files are cancelled (a running worker then writes nothing). */
export async function cancelJobsOfExpiredStores(sql: Sql): Promise<number> {
  const rows = await sql`
    UPDATE vector_store_files v
    SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
    FROM vector_stores s
    WHERE v.vector_store_id = s.id AND s.expires_at <= now() AND v.status = 'in_progress'
    RETURNING v.file_id`;
  return rows.length;
}

/** Queues again the jobs whose lease expired (their worker died) or that nobody claimed since they were queued. */
export async function requeueStaleJobs(sql: Sql, queue: JobQueue, limit: number): Promise<number> {
  const rows = await sql<{ vector_store_id: string; file_id: string }[]>`
    SELECT vector_store_id, file_id FROM vector_store_files
    WHERE status = 'in_progress'
      AND coalesce(lease_expires_at, updated_at + ${UNCLAIMED_GRACE}::interval) < now()
    ORDER BY updated_at LIMIT ${limit}`;
  const refs: JobRef[] = rows.map((r) => ({ vectorStoreId: r.vector_store_id, fileId: r.file_id }));
  if (refs.length) await queue.enqueue(refs);
  return refs.length;
}

/** Removes the bytes of deleted files and parts from the blob store; a key that fails stays for the next run. */
export async function purgeDeletedBlobs(sql: Sql, blobs: BlobStore, limit: number): Promise<number> {
  const rows = await sql<{ blob_key: string }[]>`
    SELECT blob_key FROM deleted_blobs WHERE deleted_at < now() - interval '1 minute'
    ORDER BY deleted_at LIMIT ${limit}`;
  let purged = 0;
  for (const { blob_key } of rows) {
    try {
      await blobs.delete(blob_key);
      await sql`DELETE FROM deleted_blobs WHERE blob_key = ${blob_key}`;
      purged++;
    } catch {
      // left for the next run
    }
  }
  return purged;
}

/**
 * One maintenance pass (the cron function; bounded so it fits one invocation). Every step runs even if
 * another fails; failures are thrown together at the end so the invocation counts as an error.
 */
export async function runMaintenance(deps: MaintenanceDeps, limit = 500): Promise<MaintenanceReport> {
  const log = deps.logger.child('maintenance');
  const errors: unknown[] = [];
  const step = async (name: string, fn: () => Promise<number>) => {
    try {
      return await fn();
    } catch (err) {
      log.error(`${name} failed`, { error: err });
      errors.push(err);
      return 0;
    }
  };
  const report: MaintenanceReport = {
    expired_files: await step('expire files', () => expireFiles(deps.sql, limit)),
    expired_uploads: await step('expire uploads', () => expireUploads(deps.sql, deps.blobs, limit)),
    cancelled_jobs: await step('cancel jobs of expired stores', () => cancelJobsOfExpiredStores(deps.sql)),
    requeued_jobs: await step('requeue stale jobs', () => requeueStaleJobs(deps.sql, deps.queue, limit)),
    purged_blobs: await step('purge deleted blobs', () => purgeDeletedBlobs(deps.sql, deps.blobs, limit)),
    purged_embeddings: await step('purge unused cached embeddings', () =>
      purgeEmbeddingCache(deps.sql, deps.config.EMBEDDING_CACHE_RETENTION_DAYS, limit * 10),
    ),
    settled_terms: await step('settle the term backlog', () => settleTerms(deps.sql, { limit })),
  };
  // Finished windows of RATE_LIMIT_STORE=postgres.
  await step('purge rate-limit windows', () => purgeRateLimits(deps.sql).then(() => 0));
  log.info('maintenance done', { ...report });
  if (errors.length) throw new AggregateError(errors, `maintenance: ${errors.length} step(s) failed`);
  return report;
}
