import { z } from 'zod';
import type { Sql } from '../db/client.ts';
import { notFound } from '../errors.ts';

/** Our extension: what ingestion kept count of for a store (the console's health view). */
export const VectorStoreStats = z
  .object({
    object: z.literal('vector_store.stats'),
    id: z.string(),
    chunk_count: z.number().int(),
    embedding_cache: z
      .object({ hits: z.number().int(), misses: z.number().int() })
      .describe('chunks whose embedding came from the content-addressed cache, and those embedded'),
  })
  .meta({ id: 'VectorStoreStats' });
export type VectorStoreStats = z.infer<typeof VectorStoreStats>;

/** The counts kept on a store's row (chunks, embedding cache hits and misses at ingest). */
export async function vectorStoreStats(sql: Sql, projectId: string, id: string): Promise<VectorStoreStats> {
  const [row] = await sql<{ chunk_count: number; hits: number; misses: number }[]>`
    SELECT chunk_count::int AS chunk_count, embedding_cache_hits::int AS hits, embedding_cache_misses::int AS misses
    FROM vector_stores WHERE id = ${id} AND project_id = ${projectId}`;
  if (!row) throw notFound('vector store', id, 'vector_store_id');
  return {
    object: 'vector_store.stats',
    id,
    chunk_count: row.chunk_count,
    embedding_cache: { hits: row.hits, misses: row.misses },
  };
}
