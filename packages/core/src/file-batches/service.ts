import { z } from 'zod';
import type { Sql, Tx } from '../db/client.ts';
import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { ChunkingStrategySchema } from '../ingest/chunk.ts';
import type { JobRef } from '../ingest/queue.ts';
import { AttributesSchema, unix } from '../schemas.ts';
import { type AttachInput, attachFiles } from '../vector-store-files/service.ts';
import {
  assertVectorStore,
  type FileCounts,
  fileCountsOf,
  toFileCounts,
  touchVectorStore,
} from '../vector-stores/service.ts';

const FileId = z.string().min(1).max(128);

export const FileBatchCreateParams = z
  .object({
    file_ids: z.array(FileId).min(1).max(2000).optional(),
    files: z
      .array(
        z.object({
          file_id: FileId,
          attributes: AttributesSchema.nullish(),
          chunking_strategy: ChunkingStrategySchema.optional(),
        }),
      )
      .min(1)
      .max(2000)
      .optional(),
    attributes: AttributesSchema.nullish(),
    chunking_strategy: ChunkingStrategySchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.file_ids === !p.files) {
      ctx.addIssue({ code: 'custom', path: ['file_ids'], message: 'give exactly one of file_ids or files' });
    }
  });
export type FileBatchCreateParams = z.infer<typeof FileBatchCreateParams>;

export interface FileBatchObject {
  id: string;
  object: 'vector_store.files_batch';
  vector_store_id: string;
  status: 'in_progress' | 'completed' | 'cancelled' | 'failed';
  file_counts: FileCounts;
  created_at: number;
}

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
  const status = r.status === 'cancelled' ? 'cancelled' : r.in_progress > 0 ? 'in_progress' : 'completed';
  return {
    id: r.id,
    object: 'vector_store.files_batch',
    vector_store_id: r.vector_store_id,
    status,
    file_counts: toFileCounts(r),
    created_at: unix(r.created_at)!,
  };
}

/** Creates a batch and attaches its files in one transaction; returns it with the jobs to run. */
export async function createFileBatch(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  p: FileBatchCreateParams,
  defaults: { maxTokens: number; overlapTokens: number },
): Promise<{ batch: FileBatchObject; jobs: JobRef[] }> {
  const files: AttachInput[] = p.files
    ? p.files.map((f) => ({
        fileId: f.file_id,
        attributes: f.attributes ?? p.attributes,
        chunkingStrategy: f.chunking_strategy ?? p.chunking_strategy,
      }))
    : p.file_ids!.map((fileId) => ({
        fileId,
        attributes: p.attributes,
        chunkingStrategy: p.chunking_strategy,
      }));
  return sql.begin(async (tx) => {
    await assertVectorStore(tx, projectId, vectorStoreId, true);
    const id = newId('vsfb_');
    await tx`INSERT INTO file_batches (id, project_id, vector_store_id) VALUES (${id}, ${projectId}, ${vectorStoreId})`;
    const jobs = await attachFiles(tx, projectId, vectorStoreId, files, defaults, id);
    await touchVectorStore(tx, [vectorStoreId]);
    return { batch: await getFileBatch(tx, projectId, vectorStoreId, id), jobs };
  });
}

export async function getFileBatch(sql: Sql | Tx, projectId: string, vectorStoreId: string, id: string) {
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
export async function cancelFileBatch(sql: Sql, projectId: string, vectorStoreId: string, id: string) {
  return sql.begin(async (tx) => {
    await getFileBatch(tx, projectId, vectorStoreId, id);
    await tx`UPDATE file_batches SET status = 'cancelled' WHERE id = ${id}`;
    await tx`
      UPDATE vector_store_files SET status = 'cancelled', lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE batch_id = ${id} AND status = 'in_progress'`;
    return getFileBatch(tx, projectId, vectorStoreId, id);
  });
}
