import type { Sql, Tx } from '../db/client.ts';
import type { StaticChunking, VectorStoreFileObject } from '../vector-store-files/schemas.ts';
import type { JobRef } from './queue.ts';

/** A job this worker holds the lease of, with what it needs to run. */
export interface ClaimedJob extends JobRef {
  projectId: string;
  attempts: number;
  chunking: StaticChunking;
  filename: string;
  mimeType: string | null;
  blobKey: string;
  bytes: number;
}

/**
 * Claims up to `limit` runnable jobs (in progress, lease free or expired) with a lease for `owner`.
 * SKIP LOCKED lets many workers claim at once without waiting on or taking each other's jobs.
 */
export async function claimJobs(
  sql: Sql,
  owner: string,
  leaseSeconds: number,
  limit: number,
  only?: JobRef,
): Promise<ClaimedJob[]> {
  const one = only ? sql`AND vector_store_id = ${only.vectorStoreId} AND file_id = ${only.fileId}` : sql``;
  const rows = await sql<
    {
      vector_store_id: string;
      file_id: string;
      project_id: string;
      attempts: number;
      chunking_strategy: StaticChunking;
      filename: string;
      mime_type: string | null;
      blob_key: string;
      bytes: number;
    }[]
  >`
    WITH picked AS (
      SELECT vector_store_id, file_id FROM vector_store_files
      WHERE status = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at < now()) ${one}
      ORDER BY created_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE vector_store_files v
    SET lease_owner = ${owner}, lease_expires_at = now() + make_interval(secs => ${leaseSeconds}),
        attempts = v.attempts + 1, updated_at = now()
    FROM picked, files f
    WHERE v.vector_store_id = picked.vector_store_id AND v.file_id = picked.file_id AND f.id = v.file_id
    RETURNING v.vector_store_id, v.file_id, v.project_id, v.attempts, v.chunking_strategy,
              f.filename, f.mime_type, f.blob_key, f.bytes`;
  return rows.map((r) => ({
    vectorStoreId: r.vector_store_id,
    fileId: r.file_id,
    projectId: r.project_id,
    attempts: r.attempts,
    chunking: r.chunking_strategy,
    filename: r.filename,
    mimeType: r.mime_type,
    blobKey: r.blob_key,
    bytes: r.bytes,
  }));
}

const mine = (sql: Sql | Tx, job: JobRef, owner: string) =>
  sql`vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId} AND lease_owner = ${owner} AND status = 'in_progress'`;

/** Extends the lease; false when the job is no longer ours (cancelled, detached, deleted or reclaimed). */
export async function renewLease(
  sql: Sql,
  job: JobRef,
  owner: string,
  leaseSeconds: number,
): Promise<boolean> {
  const rows = await sql`
    UPDATE vector_store_files SET lease_expires_at = now() + make_interval(secs => ${leaseSeconds})
    WHERE ${mine(sql, job, owner)} RETURNING file_id`;
  return rows.length > 0;
}

/** Marks the job failed with an error a user can act on (only while it is still ours: false otherwise). */
export async function failJob(
  sql: Sql,
  job: JobRef,
  owner: string,
  error: NonNullable<VectorStoreFileObject['last_error']>,
): Promise<boolean> {
  const rows = await sql`
    UPDATE vector_store_files
    SET status = 'failed', last_error = ${sql.json(error)}, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
    WHERE ${mine(sql, job, owner)} RETURNING file_id`;
  return rows.length > 0;
}

/** Hands a job back for another try right away (its worker is stopping). */
export async function releaseJob(sql: Sql, job: JobRef, owner: string): Promise<void> {
  await sql`UPDATE vector_store_files SET lease_owner = NULL, lease_expires_at = NULL WHERE ${mine(sql, job, owner)}`;
}

/** Frees every lease: only for a server that knows it holds its database alone (the embedded default). */
export async function releaseAllLeases(sql: Sql): Promise<number> {
  const rows = await sql`
    UPDATE vector_store_files SET lease_owner = NULL, lease_expires_at = NULL
    WHERE status = 'in_progress' AND lease_owner IS NOT NULL RETURNING file_id`;
  return rows.length;
}
