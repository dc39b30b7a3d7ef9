import { ApiError } from '../errors.ts';
import { metrics } from '../metrics.ts';
import type { Services } from '../services.ts';
import { combineFilters } from './filters.ts';
import { exactThresholdFor } from './plan.ts';
import { rewriteQuery } from './rewrite.ts';
import { encodePage, pageSize, type SearchResultsPage, type VectorStoreSearchParams } from './schemas.ts';
import { requireStores, type SearchHit, type SearchMode, searchChunks } from './search.ts';
import { touchSoon } from './touch.ts';

/** What a search needs. */
export type SearchDeps = Pick<Services, 'sql' | 'db' | 'config' | 'embedder' | 'queryCache'>;

function modeOf(p: VectorStoreSearchParams): SearchMode {
  if (p.search_mode) return p.search_mode;
  return p.ranking_options?.ranker === 'none' ? 'vector' : 'hybrid';
}

/** A caller's own query embedding, held to the server's dimensions (both dialects take one). */
export function checkQueryEmbedding(embedding: number[], dimensions: number): number[] {
  if (embedding.length !== dimensions) {
    throw new ApiError(
      'invalid_request',
      `query_embedding has ${embedding.length} dimensions; this server stores ${dimensions}.`,
      'query_embedding',
    );
  }
  return embedding;
}

/** Searches one or more of a project's stores: queries embedded (cached), run, fused by best score, paged. */
export async function searchVectorStores(
  deps: SearchDeps,
  projectId: string,
  vectorStoreIds: string[],
  p: VectorStoreSearchParams,
): Promise<SearchResultsPage> {
  const { sql, config, embedder } = deps;
  const raw = p.query === undefined ? [] : typeof p.query === 'string' ? [p.query] : p.query;
  const queries = p.rewrite_query ? await Promise.all(raw.map((q) => rewriteQuery(config, q))) : raw;
  const mode = modeOf(p);
  const limit = pageSize(p);
  const offset = p.page; // within MAX_SEARCH_WINDOW: the request schema holds it there
  const filter = combineFilters(p.filters, p.filter);
  const hybrid = p.ranking_options?.hybrid_search;

  let embeddings: (number[] | null)[];
  if (p.query_embedding) {
    const own = checkQueryEmbedding(p.query_embedding, config.EMBEDDING_DIMENSIONS);
    embeddings = queries.length ? queries.map(() => own) : [own];
  } else if (mode === 'keyword') {
    embeddings = queries.map(() => null);
  } else {
    // A bound of its own, far below ingestion's: a caller is waiting, and a 502 now beats a search in minutes.
    // A missing store answers 404 before the provider is paid; a cached query leaves that to the search itself.
    embeddings = await deps.queryCache.embed(embedder, queries, {
      deadlineMs: config.SEARCH_EMBEDDING_TIMEOUT_MS,
      sql,
      beforeProvider: () => requireStores(sql, projectId, vectorStoreIds),
    });
  }

  const threshold = exactThresholdFor(deps.db.kind, config.SEARCH_EXACT_THRESHOLD);
  const started = performance.now();
  const runs = await Promise.all(
    embeddings.map((embedding, i) =>
      searchChunks(sql, {
        projectId,
        vectorStoreIds,
        embedding,
        text: queries[i] ?? null,
        mode,
        filter,
        limit: offset + limit,
        scoreThreshold: p.ranking_options?.score_threshold ?? p.score_threshold,
        weights: hybrid ? { embedding: hybrid.embedding_weight, text: hybrid.text_weight } : undefined,
        efSearch: config.HNSW_EF_SEARCH,
        exactThreshold: threshold.store,
        matchThreshold: threshold.matches,
        requireStores: true,
      }),
    ),
  );
  metrics.observe('search_duration_seconds', { mode }, (performance.now() - started) / 1000);
  // Several queries: each chunk keeps its best score across them.
  const best = new Map<number, SearchHit>();
  for (const run of runs) {
    for (const hit of run.data) {
      const seen = best.get(hit.chunkId);
      if (!seen || hit.score > seen.score) best.set(hit.chunkId, hit);
    }
  }
  const ranked = [...best.values()].sort((a, b) => b.score - a.score || a.chunkId - b.chunkId);
  const pageHits = ranked.slice(offset, offset + limit);
  const hasMore = ranked.length > offset + limit || runs.some((r) => r.hasMore);
  touchSoon(sql, vectorStoreIds, () => metrics.inc('store_touch_errors_total'));
  return {
    object: 'vector_store.search_results.page',
    search_query: queries,
    data: pageHits.map((h) => ({
      file_id: h.fileId,
      filename: h.filename,
      score: h.score,
      attributes: h.attributes,
      content: [{ type: 'text', text: h.content }],
      vector_store_id: h.vectorStoreId,
      chunk_index: h.chunkIndex,
      page: h.page,
      score_details: h.scoreDetails,
    })),
    has_more: hasMore,
    next_page: hasMore ? encodePage(offset + limit) : null,
  };
}
