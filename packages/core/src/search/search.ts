import { toSql } from 'pgvector';
import type postgres from 'postgres';
import type { Sql, Tx } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import { compileFilter, type Filter } from './filters.ts';
import { applyScan, DEFAULT_EXACT_THRESHOLD, EXACT, planScan, type Scan } from './plan.ts';

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
  /** Search exactly when at most this many chunks pass scope and filter. */
  exactThreshold?: number;
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
export const MAX_SEARCH_WINDOW = 1000;
const MAX_TEXT_LENGTH = 4096;
const HNSW_OVERFETCH = 2;
const HALFVEC_MAX = 65504;

type Fragment = postgres.PendingQuery<postgres.Row[]>;
interface Candidate {
  id: number;
  distance: number | null;
  rank: number | null;
}

/** Cosine similarity in 0..1 from pgvector's cosine distance (NaN, from a zero vector, counts as 0). */
export const vectorScore = (distance: number) =>
  Number.isFinite(distance) ? Math.min(Math.max(1 - distance, 0), 1) : 0;

/**
 * ts_rank_cd mapped into 0..1 without looking at other results, so the score means the same on
 * every page and for every query: 0.1 is what one cover of unweighted lexemes earns, so one full
 * match of the query scores 0.5 and more (or denser) matches approach 1.
 */
export const textScore = (rank: number) => (rank > 0 ? rank / (rank + 0.1) : 0);

/**
 * Searches the chunks of a project's vector stores, best first. Hybrid score =
 * (w_e * vectorScore + w_t * textScore) / (w_e + w_t), both parts computed exactly for every
 * candidate (the union of the vector top-K and the keyword top-K), so the fused score is a fixed
 * function of query and chunk and a score threshold means the same whatever else matched.
 */
export async function searchChunks(sql: Sql, params: SearchParams): Promise<SearchPage> {
  const { limit } = params;
  const offset = params.offset ?? 0;
  const exactThreshold = params.exactThreshold ?? DEFAULT_EXACT_THRESHOLD;
  const weights = params.weights ?? DEFAULT_WEIGHTS;
  checkParams(params, offset, exactThreshold, weights);
  const filter = params.filter ? compileFilter(sql, params.filter) : null;
  const text = cleanText(params.text);
  // Hybrid search without words to match is vector search (its scores are not scaled down).
  const mode = params.mode === 'hybrid' && !text ? 'vector' : params.mode;
  const embedding = mode === 'keyword' ? null : params.embedding;
  if (mode !== 'keyword' && !embedding) {
    throw new ApiError('invalid_request', `${mode} search needs a query embedding`, 'query');
  }
  const empty: SearchPage = { data: [], hasMore: false, scan: null };
  if (mode === 'keyword' && !text) return empty;
  const need = offset + limit + 1; // one more than the page tells whether there is a next page
  const k = mode === 'hybrid' ? Math.max(need * 4, 40) : need;

  return sql.begin('read only', async (tx) => {
    const [scope] = await tx<{ dims: number; table_rows: number; ids: string[] }[]>`
      SELECT (SELECT value::int FROM settings WHERE key = 'embedding_dimensions') AS dims,
        (SELECT greatest(reltuples, 0)::float8 FROM pg_class WHERE oid = 'chunks'::regclass) AS table_rows,
        coalesce((SELECT array_agg(id ORDER BY id) FROM vector_stores
          WHERE project_id = ${params.projectId} AND id = ANY(${params.vectorStoreIds}::text[])), '{}') AS ids`;
    if (!scope) return empty;
    const vector = embedding ? queryVector(embedding, scope.dims) : null;
    if (scope.ids.length === 0) return empty;
    const where = tx`c.vector_store_id = ANY(${scope.ids}::text[])${filter ? tx` AND ${filter}` : tx``}`;

    let scan: Scan | null = null;
    const found = new Map<number, Candidate>();
    if (text && mode !== 'vector') {
      for (const row of await keywordCandidates(tx, where, text, mode === 'hybrid' ? vector : null, k)) {
        found.set(row.id, row);
      }
    }
    if (vector) {
      const plan = await planScan(tx, {
        storeIds: scope.ids,
        filter,
        need: k,
        exactThreshold,
        tableRows: scope.table_rows,
        efSearch: params.efSearch,
        cacheKey: JSON.stringify([scope.ids, params.filter ?? null]),
      });
      await applyScan(tx, plan);
      const rankText = mode === 'hybrid' ? text : null;
      // Relaxed order returns later batches that may beat earlier ones: over-fetch, re-sort, cut.
      const fetch = plan.scan === 'hnsw' ? k * HNSW_OVERFETCH : k;
      let rows = await vectorQuery(tx, where, vector, rankText, fetch);
      scan = plan.scan;
      if (plan.scan === 'hnsw' && rows.length < k) {
        // The index walk hit max_scan_tuples before enough rows passed the filter: rank them all.
        await applyScan(tx, EXACT);
        rows = await vectorQuery(tx, where, vector, rankText, k);
        scan = 'exact';
      }
      const nearest = [...rows].sort((a, b) => a.distance! - b.distance! || a.id - b.id).slice(0, k);
      for (const row of nearest) found.set(row.id, row);
    }

    const scored = [...found.values()]
      .map((c) => ({ id: c.id, ...score(mode, c, weights) }))
      .filter((c) => params.scoreThreshold === undefined || c.score >= params.scoreThreshold)
      .sort((a, b) => b.score - a.score || a.id - b.id);
    const page = scored.slice(offset, offset + limit);
    const ids = page.map((c) => c.id);
    const hydrated = await hydrate(tx, ids);
    const data = page.flatMap((c) => {
      const row = hydrated.get(c.id);
      return row ? [{ ...row, score: c.score, scoreDetails: c.scoreDetails }] : [];
    });
    return { data, hasMore: scored.length > offset + limit, scan };
  });
}

function checkParams(p: SearchParams, offset: number, exactThreshold: number, w: SearchWeights): void {
  if (!Number.isInteger(p.limit) || p.limit < 1) {
    throw new ApiError('invalid_request', 'limit must be a positive integer', 'max_num_results');
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + p.limit > MAX_SEARCH_WINDOW) {
    throw new ApiError(
      'invalid_request',
      `offset must be a non-negative integer and offset + limit at most ${MAX_SEARCH_WINDOW}`,
      'next_page',
    );
  }
  if (!Number.isInteger(exactThreshold) || exactThreshold < 0 || !Number.isInteger(p.efSearch)) {
    throw new ApiError('invalid_request', 'exactThreshold and efSearch must be integers', null);
  }
  if (
    !(Number.isFinite(w.embedding) && Number.isFinite(w.text) && w.embedding >= 0 && w.text >= 0) ||
    w.embedding + w.text <= 0
  ) {
    throw new ApiError(
      'invalid_request',
      'hybrid_search weights must be non-negative and not both zero',
      'ranking_options',
    );
  }
}

/** NUL cannot be sent as text; a long query is cut rather than refused. */
function cleanText(text: string | null): string | null {
  const cleaned = text?.replaceAll('\u0000', ' ').trim().slice(0, MAX_TEXT_LENGTH);
  return cleaned ? cleaned : null;
}

function queryVector(embedding: number[], dims: number): string {
  if (embedding.length !== dims) {
    throw new ApiError(
      'invalid_request',
      `The query embedding has ${embedding.length} dimensions; this server stores ${dims}`,
      'query_embedding',
    );
  }
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
 * The embedding side: nearest chunks by cosine distance (and their text rank for hybrid search).
 * The vector is written once: ORDER BY names its alias (a repeated vector is sent and computed twice).
 * Exported so that tests can EXPLAIN it.
 */
export function vectorQuery(
  tx: postgres.ISql,
  where: Fragment,
  vector: string,
  text: string | null,
  k: number,
) {
  // Ranked outside the LIMIT subquery, so only the k nearest pay for ts_rank_cd.
  const rank = text ? tx`ts_rank_cd(v.tsv, websearch_to_tsquery('english', ${text}))` : tx`NULL::float4`;
  return tx<Candidate[]>`
    SELECT v.id, v.distance, ${rank} AS rank FROM (
      SELECT c.id${text ? tx`, c.tsv` : tx``}, c.embedding <=> ${vector}::halfvec AS distance
      FROM chunks c WHERE ${where}
      ORDER BY distance LIMIT ${k}
    ) v`;
}

async function keywordCandidates(
  tx: Tx,
  where: Fragment,
  text: string,
  vector: string | null,
  k: number,
): Promise<Candidate[]> {
  // websearch_to_tsquery accepts any input (never a syntax error); stopwords alone match nothing.
  // The distance is computed outside the LIMIT subquery, for the k best matches only.
  const distance = vector ? tx`e.embedding <=> ${vector}::halfvec` : tx`NULL::float8`;
  return tx<Candidate[]>`
    SELECT t.id, ${distance} AS distance, t.rank FROM (
      SELECT c.id, ts_rank_cd(c.tsv, q.query) AS rank
      FROM chunks c, websearch_to_tsquery('english', ${text}) AS q(query)
      WHERE c.tsv @@ q.query AND ${where}
      ORDER BY rank DESC, c.id LIMIT ${k}
    ) t ${vector ? tx`JOIN chunks e ON e.id = t.id` : tx``}`;
}

function score(mode: SearchMode, c: Candidate, w: SearchWeights) {
  const vector = mode === 'keyword' ? null : vectorScore(c.distance ?? Number.NaN);
  const text = mode === 'vector' ? null : textScore(c.rank ?? 0);
  const fused =
    mode === 'vector'
      ? vector!
      : mode === 'keyword'
        ? text!
        : (w.embedding * vector! + w.text * text!) / (w.embedding + w.text);
  return { score: fused, scoreDetails: { vector, text } };
}

type Hydrated = Omit<SearchHit, 'score' | 'scoreDetails'>;

async function hydrate(tx: Tx, ids: number[]): Promise<Map<number, Hydrated>> {
  if (ids.length === 0) return new Map();
  const rows = await tx<Hydrated[]>`
    SELECT c.id AS "chunkId", c.vector_store_id AS "vectorStoreId", c.file_id AS "fileId", f.filename,
      c.chunk_index AS "chunkIndex", c.content, c.attributes, c.page
    FROM chunks c JOIN files f ON f.id = c.file_id
    WHERE c.id = ANY(${ids.map(String)}::bigint[])`;
  return new Map(rows.map((r) => [r.chunkId, r]));
}
