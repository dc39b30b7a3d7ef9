import type { Config } from '../config.ts';
import type { JobRef } from '../ingest/queue.ts';
import type { Services } from '../services.ts';
import { assertVectorStore, touchVectorStore } from '../vector-stores/service.ts';
import type { VectorStoreFileCreateParams, VectorStoreFileObject } from './schemas.ts';
import { type AttachInput, attachFiles, getVectorStoreFile } from './service.ts';

/** What attaching needs: the database, the job runner, and the config's chunk sizes and inline bound. */
export type Ingestion = Pick<Services, 'sql' | 'jobs' | 'config'>;

/** The chunk sizes a strategy of `auto` (or none) stands for. */
export const chunkDefaults = (config: Config) => ({
  maxTokens: config.CHUNK_SIZE,
  overlapTokens: config.CHUNK_OVERLAP,
});

/** POST /v1/vector_stores/{id}/files (JSON): attaches one file and starts its ingestion. */
export async function attachFile(
  ctx: Ingestion,
  projectId: string,
  vectorStoreId: string,
  p: VectorStoreFileCreateParams,
): Promise<VectorStoreFileObject> {
  await attachAndIngest(ctx, projectId, vectorStoreId, [
    { fileId: p.file_id, attributes: p.attributes, chunkingStrategy: p.chunking_strategy },
  ]);
  return getVectorStoreFile(ctx.sql, projectId, vectorStoreId, p.file_id);
}

/** Attaches files to a usable store in one transaction, then starts their ingestion. */
export async function attachAndIngest(
  ctx: Ingestion,
  projectId: string,
  vectorStoreId: string,
  files: AttachInput[],
): Promise<void> {
  const refs = await ctx.sql.begin(async (tx) => {
    await assertVectorStore(tx, projectId, vectorStoreId, true);
    return attachFiles(tx, projectId, vectorStoreId, files, chunkDefaults(ctx.config));
  });
  await touchVectorStore(ctx.sql, [vectorStoreId]);
  await startIngestion(ctx, refs);
}

/**
 * The ingest step every attaching use case ends with, once its transaction has committed: when the files
 * together are small (INLINE_MAX_BYTES, at most 20), they are ingested now, so the caller sees them
 * completed without polling; otherwise they are queued.
 */
export async function startIngestion(ctx: Ingestion, refs: JobRef[]): Promise<void> {
  if (!refs.length) return;
  const [row] = await ctx.sql<{ total: number }[]>`
    SELECT coalesce(sum(bytes), 0)::bigint AS total FROM files WHERE id = ANY(${refs.map((r) => r.fileId)})`;
  if ((row?.total ?? 0) <= ctx.config.INLINE_MAX_BYTES && refs.length <= 20) {
    for (const ref of refs) await ctx.jobs.runNow(ref);
  } else {
    await ctx.jobs.enqueue(refs);
  }
}
