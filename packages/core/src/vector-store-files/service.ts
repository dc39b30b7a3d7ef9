import type { z } from 'zod';
import type { Sql, Tx } from '../db/client.ts';
import { ApiError, notFound } from '../errors.ts';
import { type ChunkingStrategySchema, resolveChunking } from '../ingest/chunk.ts';
import { visibleChunk } from '../ingest/chunk-write.ts';
import type { JobRef } from '../ingest/queue.ts';
import { contentItems, contentPage, readFileText } from '../maia/file-content.ts';
import { paginate } from '../pagination.ts';
import { type Attributes, type ListPage, listPage, unix } from '../schemas.ts';
import { assertVectorStore } from '../vector-stores/service.ts';
import type {
  FileContentPage,
  StaticChunking,
  VectorStoreFileListParams,
  VectorStoreFileObject,
} from './schemas.ts';

interface Row {
  vector_store_id: string;
  file_id: string;
  status: VectorStoreFileObject['status'];
  usage_bytes: number;
  created_at: Date;
  attributes: Attributes;
  chunking_strategy: StaticChunking;
  last_error: VectorStoreFileObject['last_error'];
  chunk_count?: number;
}

/** Our extension beside OpenAI's fields: how many chunks the file became. */
const chunkCount = (sql: Sql | Tx) =>
  sql`(SELECT count(*)::int FROM chunks c WHERE c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id
        AND ${visibleChunk(sql, sql`c`)}) AS chunk_count`;

const toObject = (r: Row): VectorStoreFileObject => ({
  id: r.file_id,
  object: 'vector_store.file',
  vector_store_id: r.vector_store_id,
  status: r.status,
  usage_bytes: r.usage_bytes,
  created_at: unix(r.created_at)!,
  attributes: r.attributes,
  chunking_strategy: r.chunking_strategy,
  last_error: r.last_error,
  ...(r.chunk_count === undefined ? {} : { chunk_count: r.chunk_count }),
});

export interface AttachInput {
  fileId: string;
  attributes?: Attributes | null;
  chunkingStrategy?: z.infer<typeof ChunkingStrategySchema>;
}

/** The static form OpenAI reports for every strategy (auto resolves to the configured sizes). */
export function staticChunking(
  strategy: z.infer<typeof ChunkingStrategySchema> | undefined,
  defaults: { maxTokens: number; overlapTokens: number },
): StaticChunking {
  const r = resolveChunking(strategy, defaults);
  return {
    type: 'static',
    static: { max_chunk_size_tokens: r.maxTokens, chunk_overlap_tokens: r.overlapTokens },
  };
}

/**
 * Attaches files to a store. A file already attached is not duplicated: a failed or cancelled one is retried,
 * any other is left as it is. Returns the jobs that now need ingesting.
 */
export async function attachFiles(
  tx: Tx,
  projectId: string,
  vectorStoreId: string,
  files: AttachInput[],
  defaults: { maxTokens: number; overlapTokens: number },
  batchId: string | null = null,
): Promise<JobRef[]> {
  if (!files.length) return [];
  const ids = [...new Set(files.map((f) => f.fileId))];
  // FOR KEY SHARE: a file deleted at the same moment either waits for this attach (and then takes its rows
  // with it) or is gone before we look (404); never a foreign-key violation (a 500) at the insert. The
  // caller holds the store the same way (assertVectorStore(..., usable)).
  const found = await tx<{ id: string }[]>`
    SELECT id FROM files WHERE id = ANY(${ids}) AND project_id = ${projectId} AND (expires_at IS NULL OR expires_at > now())
    ORDER BY id FOR KEY SHARE`;
  const missing = ids.find((id) => !found.some((f) => f.id === id));
  if (missing) throw notFound('file', missing, 'file_id');
  const byId = new Map(files.map((f) => [f.fileId, f]));
  // In file id order, as the lock above: two batches naming the same files in other orders would otherwise
  // each hold one conflict row the other waits for (a deadlock, answered 500; found on native Postgres).
  const ordered = [...byId.values()].sort((a, b) => (a.fileId < b.fileId ? -1 : a.fileId > b.fileId ? 1 : 0));
  const rows = ordered.map((f) => ({
    vector_store_id: vectorStoreId,
    file_id: f.fileId,
    project_id: projectId,
    batch_id: batchId,
    attributes: tx.json(f.attributes ?? {}),
    chunking_strategy: tx.json(staticChunking(f.chunkingStrategy, defaults)),
  }));
  const done = await tx<{ file_id: string; status: string; lease_owner: string | null }[]>`
    INSERT INTO vector_store_files ${tx(rows)}
    ON CONFLICT (vector_store_id, file_id) DO UPDATE SET
      batch_id = coalesce(EXCLUDED.batch_id, vector_store_files.batch_id),
      status = CASE WHEN vector_store_files.status IN ('failed', 'cancelled') THEN 'in_progress' ELSE vector_store_files.status END,
      attributes = CASE WHEN vector_store_files.status IN ('failed', 'cancelled') THEN EXCLUDED.attributes ELSE vector_store_files.attributes END,
      chunking_strategy = CASE WHEN vector_store_files.status IN ('failed', 'cancelled') THEN EXCLUDED.chunking_strategy ELSE vector_store_files.chunking_strategy END,
      last_error = CASE WHEN vector_store_files.status IN ('failed', 'cancelled') THEN NULL ELSE vector_store_files.last_error END,
      attempts = CASE WHEN vector_store_files.status IN ('failed', 'cancelled') THEN 0 ELSE vector_store_files.attempts END,
      updated_at = now()
    RETURNING file_id, status, lease_owner`;
  return done
    .filter((r) => r.status === 'in_progress' && r.lease_owner === null)
    .map((r) => ({ vectorStoreId, fileId: r.file_id }));
}

export async function getVectorStoreFile(
  sql: Sql | Tx,
  projectId: string,
  vectorStoreId: string,
  fileId: string,
): Promise<VectorStoreFileObject> {
  const [row] = await sql<Row[]>`
    SELECT *, ${chunkCount(sql)} FROM vector_store_files v
    WHERE vector_store_id = ${vectorStoreId} AND file_id = ${fileId} AND project_id = ${projectId}`;
  if (!row) {
    await assertVectorStore(sql, projectId, vectorStoreId);
    throw notFound('file', fileId, 'file_id');
  }
  return toObject(row);
}

/** Lists a store's files, or a batch's when batchId is given. */
export async function listVectorStoreFiles(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  q: VectorStoreFileListParams,
  batchId?: string,
): Promise<ListPage<VectorStoreFileObject>> {
  await assertVectorStore(sql, projectId, vectorStoreId);
  const status = q.filter === undefined ? sql`true` : sql`status = ${q.filter}`;
  const batch = batchId === undefined ? sql`true` : sql`batch_id = ${batchId}`;
  const { rows, hasMore } = await paginate(
    sql,
    q,
    { createdAt: sql`created_at`, id: sql`file_id` },
    (id) => sql`SELECT created_at, file_id AS id FROM vector_store_files
                WHERE vector_store_id = ${vectorStoreId} AND file_id = ${id}`,
    (where, order, limit) => sql<Row[]>`
      SELECT *, ${chunkCount(sql)} FROM vector_store_files v
      WHERE vector_store_id = ${vectorStoreId} AND project_id = ${projectId} AND ${status} AND ${batch} AND ${where}
      ORDER BY ${order} LIMIT ${limit}`,
  );
  return listPage(rows.map(toObject), hasMore);
}

/** Replaces a file's attributes, and the copies on its chunks that search filters read, in one transaction. */
export async function updateVectorStoreFile(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  fileId: string,
  attributes: Attributes | null,
): Promise<VectorStoreFileObject> {
  return sql.begin(async (tx) => {
    const attrs = tx.json(attributes ?? {});
    const [row] = await tx<Row[]>`
      UPDATE vector_store_files SET attributes = ${attrs}, updated_at = now()
      WHERE vector_store_id = ${vectorStoreId} AND file_id = ${fileId} AND project_id = ${projectId}
      RETURNING *`;
    if (!row) return getVectorStoreFile(tx, projectId, vectorStoreId, fileId);
    await tx`UPDATE chunks SET attributes = ${attrs} WHERE vector_store_id = ${vectorStoreId} AND file_id = ${fileId}`;
    return toObject(row);
  });
}

/** Detaches a file from a store: its chunks go (by cascade), the file itself stays. */
export async function detachVectorStoreFile(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  fileId: string,
) {
  const rows = await sql`
    DELETE FROM vector_store_files
    WHERE vector_store_id = ${vectorStoreId} AND file_id = ${fileId} AND project_id = ${projectId} RETURNING file_id`;
  if (!rows.length) await getVectorStoreFile(sql, projectId, vectorStoreId, fileId);
  return { id: fileId, object: 'vector_store.file.deleted' as const, deleted: true as const };
}

/**
 * The file's parsed text (pages in order, no chunk overlap) as OpenAI's file content page, from
 * item `from` on. Files ingested before the text was kept fall back to their chunks in order.
 */
export async function vectorStoreFileContent(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  fileId: string,
  from = 0,
): Promise<FileContentPage> {
  const file = await getVectorStoreFile(sql, projectId, vectorStoreId, fileId);
  if (file.status !== 'completed') {
    throw new ApiError(
      'invalid_request',
      `File ${fileId} is ${file.status}; its content is available once completed.`,
      'file_id',
    );
  }
  const kept = await readFileText(sql, fileId);
  if (kept) return contentPage(contentItems(kept.text, kept.pages), from);
  const chunks = await sql<{ content: string }[]>`
    SELECT content FROM chunks c
    WHERE vector_store_id = ${vectorStoreId} AND file_id = ${fileId} AND ${visibleChunk(sql, sql`c`)}
    ORDER BY chunk_index`;
  return contentPage(
    chunks.map((c) => c.content),
    from,
  );
}
