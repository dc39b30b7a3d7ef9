import { toSql } from 'pgvector';
import type { Sql } from '../db/client.ts';
import { ApiError, notFound } from '../errors.ts';
import { compileFilter, type Filter } from './filters.ts';
import { DEFAULT_EXACT_THRESHOLD, knownMatches, rememberMatches, type Scan } from './plan.ts';
import { searchStatement } from './statement.ts';

export type SearchMode = 'vector' | 'keyword' | 'hybrid';
export interface SearchWeights {
  embedding: number;
  text: number;
}
export interface SearchParams {
  projectId: string;
  vectorStoreIds: string[];
  /** The query embedding; required for vector and hybrid search. */
  embedding: number[] | null;
  /** The query text for keyword matching (keyword and hybrid search). */
  text: string | null;
  mode: SearchMode;
  filter?: Filter;
  limit: number;
  offset?: number;
  scoreThreshold?: number;
  weights?: SearchWeights;
  efSearch: number;
  /** Search exactly when the stores hold at most this many chunks... */
  exactThreshold?: number;
  /** ...or at most this many pass the filter (default: exactThreshold). */
  matchThreshold?: number;
  /** Fail with 404 (400 once expired) unless every store exists in the project; else skip those stores. */
  requireStores?: boolean;
}
export interface SearchHit {
  chunkId: number;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  chunkIndex: number;
  content: string;
  attributes: Record<string, string | number | boolean>;
  page: number | null;
  score: number;
  scoreDetails: { vector: number | null; text: number | null };
  /** The raw Okapi BM25 score (keyword and hybrid search), for callers that normalise it themselves. */
  bm25: number | null;
}
export interface SearchPage {
  data: SearchHit[];
  hasMore: boolean;
  /** How the embedding side was searched (null for keyword search or nothing to search). */
  scan: Scan | null;
}

/** OpenAI's hybrid_search default balance. */
export const DEFAULT_WEIGHTS: SearchWeights = { embedding: 0.7, text: 0.3 };
/** offset + limit may not exceed this: deeper pages cost more than they are worth. */
const MAX_TEXT_LENGTH = 4096;
const HALFVEC_MAX = 65504;

interface Row {
  found: string[];
  expired: string[];
  scan: Scan | null;
  matches: number | null;
  rn: number | null;
  score: number;
  vector: number | null;
  text: number | null;
  bm25: number | null;
  chunkId: number;
  vectorStoreId: string;
  fileId: string;
  filename: string;
  chunkIndex: number;
  content: string;
  attributes: Record<string, string | number | boolean>;
  page: number | null;
}

/**
 * Searches the chunks of a project's vector stores, best first, in one statement: the store check,
 * the plan (from the chunk count kept with each store), the scan settings, the scan (and its exact
 * fallback), keyword ranking, fusion, paging and the page's content all run in the database, in one
 * round trip and no transaction. Hybrid score = (w_e * vector + w_t * text) / (w_e + w_t), both parts
 * computed exactly for every candidate (the union of the vector top-K and the BM25 top-K), so the
 * fused score is a fixed function of query and chunk and a threshold means the same whatever matched.
 */
export async function searchChunks(sql: Sql, params: SearchParams): Promise<SearchPage> {
  const planned = planSearch(sql, params);
  if (!planned) {
    if (params.requireStores) await requireStores(sql, params.projectId, params.vectorStoreIds); // still 404
    return { data: [], hasMore: false, scan: null };
  }
  const { statement, filter, countKey, vector, offset, limit } = planned;
  const rows = await sql<Row[]>`${statement}`;
  const head = rows[0]!;
  if (params.requireStores) checkStores(params.vectorStoreIds, head);
  if (filter && head.matches !== null) rememberMatches(countKey, head.matches);
  const hits = rows.filter((r) => r.rn !== null && r.rn <= offset + limit);
  return {
    data: hits.map((r) => ({
      chunkId: r.chunkId,
      vectorStoreId: r.vectorStoreId,
      fileId: r.fileId,
      filename: r.filename,
      chunkIndex: r.chunkIndex,
      content: r.content,
      attributes: r.attributes,
      page: r.page,
      score: r.score,
      scoreDetails: { vector: r.vector, text: r.text },
      bm25: r.bm25,
    })),
    hasMore: rows.some((r) => r.rn === offset + limit + 1),
    scan: vector ? head.scan : null,
  };
}

/** The statement of a search and what reading its rows needs; null when there is nothing to search. */
function planSearch(sql: Sql, params: SearchParams) {
  const { limit } = params;
  const offset = params.offset ?? 0;
  const weights = params.weights ?? DEFAULT_WEIGHTS;
  const filter = params.filter ? compileFilter(sql, params.filter) : null;
  const text = cleanText(params.text);
  // Hybrid search without words to match is vector search (its scores are not scaled down).
  const mode = params.mode === 'hybrid' && !text ? 'vector' : params.mode;
  const embedding = mode === 'keyword' ? null : params.embedding;
  if (mode !== 'keyword' && !embedding) {
    throw new ApiError('invalid_request', `${mode} search needs a query embedding`, 'query');
  }
  const vector = embedding ? queryVector(embedding) : null;
  if (mode === 'keyword' && !text) return null;
  const need = offset + limit + 1; // one more than the page tells whether there is a next page
  const matchThreshold = params.matchThreshold ?? params.exactThreshold ?? DEFAULT_EXACT_THRESHOLD;
  // A count is bounded by the threshold it was taken for: one taken under a lower bound would read as few.
  const countKey = JSON.stringify([
    params.projectId,
    params.vectorStoreIds,
    params.filter ?? null,
    matchThreshold,
  ]);
  const statement = searchStatement(sql, {
    projectId: params.projectId,
    storeIds: params.vectorStoreIds,
    filter,
    filterOver: (column) => compileFilter(sql, params.filter!, column),
    vector,
    text: mode === 'vector' ? null : text,
    mode,
    k: mode === 'hybrid' ? Math.max(need * 4, 40) : need,
    offset,
    limit,
    weights,
    scoreThreshold: params.scoreThreshold ?? null,
    exactThreshold: params.exactThreshold ?? DEFAULT_EXACT_THRESHOLD,
    matchThreshold,
    efSearch: params.efSearch,
    known: filter ? knownMatches(countKey) : null,
  });
  return { statement, filter, countKey, vector, offset, limit };
}

/** Where the database spends a search's time: EXPLAIN ANALYZE of its statement (the bench's breakdown). */
export async function explainSearch(
  sql: Sql,
  params: SearchParams,
): Promise<{ planningMs: number; executionMs: number }> {
  const planned = planSearch(sql, params);
  if (!planned) return { planningMs: 0, executionMs: 0 };
  const [row] = await sql<{ 'QUERY PLAN': [{ 'Planning Time': number; 'Execution Time': number }] }[]>`
    EXPLAIN (ANALYZE, FORMAT JSON) ${planned.statement}`;
  const plan = row!['QUERY PLAN'][0];
  return { planningMs: plan['Planning Time'], executionMs: plan['Execution Time'] };
}

/**
 * 404 unless every store exists in the project (400 once expired), as its own statement: for the paths where
 * the search statement (which checks them itself) does not run, or runs only after something costly.
 */
export async function requireStores(sql: Sql, projectId: string, ids: string[]): Promise<void> {
  const [row] = await sql<{ found: string[]; expired: string[] }[]>`
    SELECT coalesce(array_agg(id), '{}') AS found,
      coalesce(array_agg(id) FILTER (WHERE expires_at <= now()), '{}') AS expired
    FROM vector_stores WHERE project_id = ${projectId} AND id = ANY(${ids}::text[])`;
  checkStores(ids, row!);
}

/** 404 for the first store not in the project, 400 for the first that has expired (in the caller's order). */
function checkStores(ids: string[], scope: { found: string[]; expired: string[] }): void {
  for (const id of ids) if (!scope.found.includes(id)) throw notFound('vector store', id, 'vector_store_id');
  for (const id of ids) {
    if (scope.expired.includes(id)) {
      throw new ApiError('expired', `Vector store ${id} has expired; create a new one.`, 'vector_store_id');
    }
  }
}

/** NUL cannot be sent as text; a long query is cut rather than refused. */
function cleanText(text: string | null): string | null {
  const cleaned = text?.replaceAll('\u0000', ' ').trim().slice(0, MAX_TEXT_LENGTH);
  return cleaned ? cleaned : null;
}

/**
 * The query vector as pgvector text. Its length is the server's: a caller's query_embedding is held to it by
 * the search use case, a provider's output by the provider.
 */
function queryVector(embedding: number[]): string {
  let norm = 0;
  for (const x of embedding) {
    if (typeof x !== 'number' || !Number.isFinite(x) || Math.abs(x) > HALFVEC_MAX) {
      throw new ApiError(
        'invalid_request',
        `The query embedding must hold finite numbers within ±${HALFVEC_MAX}`,
        'query_embedding',
      );
    }
    norm += x * x;
  }
  if (norm === 0) {
    throw new ApiError('invalid_request', 'The query embedding is all zeros', 'query_embedding');
  }
  return toSql(embedding)!;
}

/**
 * BM25 keyword ranking on its own, for callers that normalise scores themselves (the MAIA mount
 * min-max normalises `bm25` over its candidates): the `limit` best chunks by raw Okapi BM25.
 */
export async function keywordSearch(
  sql: Sql,
  p: Pick<SearchParams, 'projectId' | 'vectorStoreIds' | 'filter' | 'limit'> & { text: string },
): Promise<(SearchHit & { bm25: number })[]> {
  const page = await searchChunks(sql, { ...p, embedding: null, mode: 'keyword', efSearch: 0 });
  return page.data.map((h) => ({ ...h, bm25: h.bm25 ?? 0 }));
}
