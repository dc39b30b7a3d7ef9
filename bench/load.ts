// Fills a store straight through SQL (the API's ingest path is measured separately, in ingest.ts).
import type { Sql } from '@vsdb/core/db/client';
import { type Doc, vectorText } from './vectors.ts';

export interface StoredChunk {
  id: number;
  v: Float32Array;
  bucket: number;
}

/** Creates a store of the default project whose files are `docs`, with chunk attributes {bucket, topic}. */
export async function loadStore(sql: Sql, store: string, docs: Doc[]): Promise<StoredChunk[]> {
  await sql`INSERT INTO vector_stores (id, project_id, name) VALUES (${store}, 'proj_default', ${store})`;
  const files = docs.map((d) => ({
    id: `file-${store}-${d.index}`,
    project_id: 'proj_default',
    filename: `${store}-doc-${d.index}.txt`,
    bytes: 1,
    purpose: 'assistants',
    blob_key: `${store}-${d.index}`,
  }));
  const attached = docs.map((d) => ({
    vector_store_id: store,
    file_id: `file-${store}-${d.index}`,
    project_id: 'proj_default',
    status: 'completed',
    attributes: sql.json({ bucket: d.bucket, topic: d.topic }),
    chunking_strategy: sql.json({
      type: 'static',
      static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
    }),
  }));
  for (let b = 0; b < docs.length; b += 2000) {
    await sql`INSERT INTO files ${sql(files.slice(b, b + 2000))}`;
    await sql`INSERT INTO vector_store_files ${sql(attached.slice(b, b + 2000))}`;
  }
  const out: StoredChunk[] = [];
  let batch: Record<string, unknown>[] = [];
  let vectors: { v: Float32Array; bucket: number }[] = [];
  const flush = async () => {
    if (!batch.length) return;
    const ids = await sql<{ id: number }[]>`INSERT INTO chunks ${sql(batch)} RETURNING id`;
    for (const [i, r] of ids.entries()) out.push({ id: r.id, v: vectors[i]!.v, bucket: vectors[i]!.bucket });
    batch = [];
    vectors = [];
  };
  for (const d of docs) {
    for (const [i, v] of d.chunks.entries()) {
      const content = `Document ${d.index} (topic ${d.topic}), part ${i}.`;
      batch.push({
        vector_store_id: store,
        file_id: `file-${store}-${d.index}`,
        chunk_index: i,
        content,
        tokens: 12,
        char_start: 0,
        char_end: content.length,
        attributes: sql.json({ bucket: d.bucket, topic: d.topic }),
        embedding: vectorText(v),
      });
      vectors.push({ v, bucket: d.bucket });
      if (batch.length >= 500) await flush();
    }
  }
  await flush();
  return out;
}

/** Drops the HNSW index so bulk loads skip row-by-row index maintenance (~6x slower in WASM). */
export async function dropVectorIndex(sql: Sql): Promise<string> {
  const [row] = await sql<{ indexdef: string }[]>`
    SELECT indexdef FROM pg_indexes WHERE indexname = 'chunks_embedding'`;
  if (!row) throw new Error('the migrated schema has no chunks_embedding index');
  await sql`DROP INDEX chunks_embedding`;
  return row.indexdef;
}

/** Rebuilds the index from the migration's own definition, with the memory pgvector needs to build fast. */
export async function buildVectorIndex(sql: Sql, indexdef: string): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT set_config('maintenance_work_mem', '512MB', true)`;
    // A large index takes longer than the service's DATABASE_STATEMENT_TIMEOUT_MS allows a statement.
    await tx`SELECT set_config('statement_timeout', '0', true)`;
    await tx.unsafe(indexdef);
  });
  await sql`ANALYZE chunks`;
}
