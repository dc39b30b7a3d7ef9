import { chunkDefaults, type Ingestion, startIngestion } from '../vector-store-files/attach.ts';
import { attachFiles } from '../vector-store-files/service.ts';
import type { VectorStoreCreateParams, VectorStoreObject } from './schemas.ts';
import { getVectorStore, insertVectorStore } from './service.ts';

/** POST /v1/vector_stores: the store and its `file_ids` attachments in one transaction, then their ingestion. */
export async function createVectorStore(
  ctx: Ingestion,
  projectId: string,
  p: VectorStoreCreateParams,
): Promise<VectorStoreObject> {
  const { id, refs } = await ctx.sql.begin(async (tx) => {
    const id = await insertVectorStore(tx, projectId, p);
    const files = (p.file_ids ?? []).map((fileId) => ({ fileId, chunkingStrategy: p.chunking_strategy }));
    return { id, refs: await attachFiles(tx, projectId, id, files, chunkDefaults(ctx.config)) };
  });
  await startIngestion(ctx, refs);
  return getVectorStore(ctx.sql, projectId, id);
}
