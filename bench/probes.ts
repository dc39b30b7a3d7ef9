// One search, three ways: through the HTTP API, through the search core, and as bare SQL.
import type { Sql } from '@vsdb/core/db/client';
import type { Filter } from '@vsdb/core/search/filters';
import { type SearchPage, searchChunks } from '@vsdb/core/search/search';
import { vectorText } from './vectors.ts';

export interface Probe {
  ms: number;
  /** Chunk ids of the hits, best first. */
  ids: number[];
}

/** Maps the API's (file_id, chunk_index) back to chunk ids. */
export type ChunkKeys = Map<string, number>;
export const chunkKey = (fileId: string, chunkIndex: number) => `${fileId}#${chunkIndex}`;

/** POST /v1/vector_stores/{id}/search with MAIA's query_embedding: no embedding call is made. */
export async function apiSearch(
  url: string,
  store: string,
  query: Float32Array,
  keys: ChunkKeys,
  filters?: Filter,
): Promise<Probe> {
  const body = JSON.stringify({
    query_embedding: Array.from(query),
    max_num_results: 10,
    search_mode: 'vector',
    ...(filters ? { filters } : {}),
  });
  const started = performance.now();
  // Once more if a kept-alive socket was closed under the request (ECONNRESET ended a full run once).
  const res = await retryOnce(() =>
    fetch(`${url}/v1/vector_stores/${store}/search`, {
      method: 'POST',
      // The extras carry chunk_index, which maps a hit back to its chunk (an SDK's hit has no chunk id).
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer bench',
        'x-search-extras': 'true',
      },
      body,
    }),
  );
  const page = (await res.json()) as { data?: { file_id: string; chunk_index: number }[] };
  const ms = performance.now() - started;
  if (!res.ok || !page.data) throw new Error(`search answered ${res.status}: ${JSON.stringify(page)}`);
  return { ms, ids: page.data.map((h) => keys.get(chunkKey(h.file_id, h.chunk_index)) ?? -1) };
}

const retryOnce = <T>(fn: () => Promise<T>): Promise<T> =>
  fn().catch((err: unknown) => {
    if (err instanceof TypeError && err.message === 'fetch failed') return fn();
    throw err;
  });

/** searchChunks itself (no HTTP, no validation): what the core costs, and which scan it chose. */
export async function coreSearch(
  sql: Sql,
  store: string,
  query: Float32Array,
  opts: { filter?: Filter; efSearch: number; exactThreshold?: number },
): Promise<Probe & { scan: SearchPage['scan'] }> {
  const started = performance.now();
  const page = await searchChunks(sql, {
    projectId: 'proj_default',
    vectorStoreIds: [store],
    embedding: Array.from(query),
    text: null,
    mode: 'vector',
    limit: 10,
    filter: opts.filter,
    efSearch: opts.efSearch,
    exactThreshold: opts.exactThreshold,
  });
  return { ms: performance.now() - started, ids: page.data.map((h) => h.chunkId), scan: page.scan };
}

export type SqlScan = { scan: 'exact' } | { scan: 'hnsw'; efSearch: number };

/**
 * The physical floor: one statement, the k nearest of a store. Transaction-local settings choose the scan
 * (set_config(..., true): a session SET would stay on one pooled connection and miss the others, and
 * leak into whatever reuses it), so `fn` runs its statements on `tx`; the timed part is one round trip.
 */
export async function withSqlScan<T>(sql: Sql, scan: SqlScan, fn: (tx: Sql) => Promise<T>): Promise<T> {
  return (await sql.begin(async (tx) => {
    await tx`SELECT set_config('plan_cache_mode', 'force_custom_plan', true)`;
    if (scan.scan === 'exact') await tx`SELECT set_config('enable_indexscan', 'off', true)`;
    else {
      await tx`SELECT set_config('hnsw.ef_search', ${String(scan.efSearch)}, true)`;
      await tx`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)`;
    }
    return fn(tx as unknown as Sql);
  })) as T;
}

export async function sqlSearch(sql: Sql, store: string, query: Float32Array): Promise<Probe> {
  const v = vectorText(query);
  const started = performance.now();
  const rows = await sql<{ id: number }[]>`
    SELECT id, embedding <=> ${v} AS distance FROM chunks
    WHERE vector_store_id = ${store} ORDER BY distance LIMIT 10`;
  return { ms: performance.now() - started, ids: rows.map((r) => r.id) };
}

/** The scan the planner picks for the bare statement under the current settings. */
export async function sqlPlan(sql: Sql, store: string, query: Float32Array): Promise<string> {
  const rows = await sql<{ 'QUERY PLAN': string }[]>`
    EXPLAIN SELECT id, embedding <=> ${vectorText(query)} AS distance FROM chunks
    WHERE vector_store_id = ${store} ORDER BY distance LIMIT 10`;
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  return /chunks_embedding/.test(plan) ? 'hnsw' : 'exact';
}

/** Found / expected over all queries: recall@k against the exact top-k. */
export function recall(results: number[][], truth: number[][]): number {
  let found = 0;
  let expected = 0;
  results.forEach((ids, i) => {
    const want = new Set(truth[i]!);
    expected += want.size;
    for (const id of ids) if (want.has(id)) found++;
  });
  return expected ? found / expected : 1;
}
