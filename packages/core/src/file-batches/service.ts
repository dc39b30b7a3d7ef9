import type { Sql, Tx } from '../db/client.ts';
import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { type ListPage, unix } from '../schemas.ts';
import { chunkDefaults, type Ingestion, startIngestion } from '../vector-store-files/attach.ts';
import type { VectorStoreFileListParams, VectorStoreFileObject } from '../vector-store-files/schemas.ts';
import { type AttachInput, attachFiles, listVectorStoreFiles } from '../vector-store-files/service.ts';
import { assertVectorStore, fileCountsOf, toFileCounts, touchVectorStore } from '../vector-stores/service.ts';
import type { FileBatchCreateParams, FileBatchObject } from './schemas.ts';

interface Row {
  id: string;
  vector_store_id: string;
  status: string;
  created_at: Date;
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
}

function toBatch(r: Row): FileBatchObject {
  const total = r.in_progress + r.completed + r.failed + r.cancelled;
  // A batch whose files all failed has failed (OpenAI's fourth status), not completed.
  const status =
    r.status === 'cancelled'
      ? 'cancelled'
      : r.in_progress > 0
        ? 'in_progress'
        : total > 0 && r.failed === total
          ? 'failed'
          : 'completed';
  return {
    id: r.id,
    object: 'vector_store.files_batch',
    vector_store_id: r.vector_store_id,
    status,
    file_counts: toFileCounts(r),
    created_at: unix(r.created_at)!,
  };
}

/** POST /v1/vector_stores/{id}/file_batches: the batch and its attachments in one transaction, then their ingestion. */
export async function createFileBatch(
  ctx: Ingestion,
  projectId: string,
  vectorStoreId: string,
  p: FileBatchCreateParams,
): Promise<FileBatchObject> {
  const files: AttachInput[] = p.files
    ? p.files.map((f) => ({
        fileId: f.file_id,
        // With `files`, the global attributes and chunking_strategy are ignored (as the spec says).
        attributes: f.attributes,
        chunkingStrategy: f.chunking_strategy,
      }))
    : p.file_ids!.map((fileId) => ({
        fileId,
        attributes: p.attributes,
        chunkingStrategy: p.chunking_strategy,
      }));
  const { sql } = ctx;
  const { batch, jobs } = await sql.begin(async (tx) => {
    await assertVectorStore(tx, projectId, vectorStoreId, true);
    const id = newId('vsfb_');
    await tx`INSERT INTO file_batches (id, project_id, vector_store_id) VALUES (${id}, ${projectId}, ${vectorStoreId})`;
    const jobs = await attachFiles(tx, projectId, vectorStoreId, files, chunkDefaults(ctx.config), id);
    await touchVectorStore(tx, [vectorStoreId]);
    return { batch: await getFileBatch(tx, projectId, vectorStoreId, id), jobs };
  });
  await startIngestion(ctx, jobs);
  return jobs.length ? getFileBatch(sql, projectId, vectorStoreId, batch.id) : batch;
}

export async function getFileBatch(
  sql: Sql | Tx,
  projectId: string,
  vectorStoreId: string,
  id: string,
): Promise<FileBatchObject> {
  const [row] = await sql<Row[]>`
    SELECT b.id, b.vector_store_id, b.status, b.created_at, c.*
    FROM file_batches b
    CROSS JOIN LATERAL (${fileCountsOf(sql, sql`f.batch_id = b.id`)}) c
    WHERE b.id = ${id} AND b.vector_store_id = ${vectorStoreId} AND b.project_id = ${projectId}`;
  if (!row) {
    await assertVectorStore(sql, projectId, vectorStoreId);
    throw notFound('file batch', id, 'batch_id');
  }
  return toBatch(row);
}

/** Cancels a batch: its files not yet done become cancelled (a worker finishing one drops its result). */
export async function cancelFileBatch(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  id: string,
): Promise<FileBatchObject> {
  return sql.begin(async (tx) => {
    await getFileBatch(tx, projectId, vectorStoreId, id);
    await tx`UPDATE file_batches SET status = 'cancelled' WHERE id = ${id}`;
    await tx`
      UPDATE vector_store_files SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE batch_id = ${id} AND status = 'in_progress'`;
    return getFileBatch(tx, projectId, vectorStoreId, id);
  });
}

/** The files of one batch (a page of them), after checking the batch exists. */
export async function listFileBatchFiles(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  batchId: string,
  q: VectorStoreFileListParams,
): Promise<ListPage<VectorStoreFileObject>> {
  await getFileBatch(sql, projectId, vectorStoreId, batchId);
  return listVectorStoreFiles(sql, projectId, vectorStoreId, q, batchId);
}
