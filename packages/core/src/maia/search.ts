import type { Sql } from '../db/client.ts';
import { type SearchHit, searchChunks } from '../search/search.ts';
import { checkQueryEmbedding, type SearchDeps } from '../search/service.ts';
import { touchVectorStore } from '../vector-stores/service.ts';
import { HYBRID_DEFAULTS, rankHybrid, type ScoreDetails } from './ranking.ts';
import type { MaiaSearchRequest, MaiaSearchResponse } from './schemas.ts';
import { getMaiaStore } from './stores.ts';

const CANDIDATE_MULTIPLIER = 4;
const MAX_CANDIDATES = 100;

interface Extra {
  file_attributes: Record<string, unknown> | null;
  created_at: Date;
}

/** File attributes (with `structured`) and the time each file was processed, for MAIA's hits. */
async function extras(sql: Sql, storeId: string, fileIds: string[]): Promise<Map<string, Extra>> {
  if (!fileIds.length) return new Map();
  const rows = await sql<
    {
      file_id: string;
      attributes: Record<string, unknown>;
      columns: unknown;
      row_count: number | null;
      at: Date;
    }[]
  >`
    SELECT v.file_id, v.attributes, s.columns, s.row_count, v.updated_at AS at
    FROM vector_store_files v LEFT JOIN structured_files s ON s.file_id = v.file_id
    WHERE v.vector_store_id = ${storeId} AND v.file_id = ANY(${[...new Set(fileIds)]}::text[])`;
  return new Map(
    rows.map((r) => {
      const attrs: Record<string, unknown> = { ...r.attributes };
      if (r.columns)
        attrs.structured = { table_name: 'csv_rows', row_count: r.row_count, columns: r.columns };
      return [r.file_id, { file_attributes: Object.keys(attrs).length ? attrs : null, created_at: r.at }];
    }),
  );
}

/** A chunk's metadata as MAIA copies it from its file: the attributes without the server's `structured` key. */
function chunkMetadata(attributes: SearchHit['attributes']): Record<string, unknown> | null {
  const { structured: _, ...rest } = attributes as Record<string, unknown>;
  return Object.keys(rest).length ? rest : null;
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/** MAIA's search: vector (cosine, the default) or hybrid (keyword + vector, MMR, temporal decay). */
export async function maiaSearch(
  deps: SearchDeps,
  projectId: string,
  storeId: string,
  p: MaiaSearchRequest,
): Promise<MaiaSearchResponse> {
  const { sql, config } = deps;
  await getMaiaStore(sql, projectId, storeId);
  const embedding = p.query_embedding
    ? checkQueryEmbedding(p.query_embedding, config.EMBEDDING_DIMENSIONS)
    : (
        await deps.queryCache.embed(deps.embedder, [p.query], {
          deadlineMs: config.SEARCH_EMBEDDING_TIMEOUT_MS,
        })
      )[0]!;
  const base = { projectId, vectorStoreIds: [storeId], filter: p.filter, efSearch: config.HNSW_EF_SEARCH };
  let hits: { hit: SearchHit; score: number; details: ScoreDetails | null }[];
  if (p.search_mode === 'vector') {
    const page = await searchChunks(sql, {
      ...base,
      embedding,
      text: null,
      mode: 'vector',
      limit: p.max_results,
      scoreThreshold: p.score_threshold ?? undefined,
    });
    hits = page.data.map((hit) => ({ hit, score: round6(hit.score), details: null }));
  } else {
    const limit = Math.min(p.max_results * CANDIDATE_MULTIPLIER, MAX_CANDIDATES);
    const [vector, keyword] = await Promise.all([
      searchChunks(sql, { ...base, embedding, text: null, mode: 'vector', limit }),
      searchChunks(sql, { ...base, embedding: null, text: p.query, mode: 'keyword', limit }),
    ]);
    const merged = new Map<number, { hit: SearchHit; vector: number; text: number }>();
    for (const hit of vector.data)
      merged.set(hit.chunkId, { hit, vector: hit.scoreDetails.vector ?? 0, text: 0 });
    for (const hit of keyword.data) {
      const seen = merged.get(hit.chunkId);
      // MAIA min-max normalises the raw BM25 score itself.
      if (seen) seen.text = hit.bm25 ?? 0;
      else merged.set(hit.chunkId, { hit, vector: 0, text: hit.bm25 ?? 0 });
    }
    const info = await extras(
      sql,
      storeId,
      [...merged.values()].map((m) => m.hit.fileId),
    );
    const candidates = [...merged.values()].map((m) => ({
      ...m,
      content: m.hit.content,
      createdAt: info.get(m.hit.fileId)?.created_at ?? new Date(),
    }));
    const w = p.ranking_weights ?? { vector: HYBRID_DEFAULTS.vectorWeight, text: HYBRID_DEFAULTS.textWeight };
    hits = rankHybrid(candidates, {
      maxResults: p.max_results,
      vectorWeight: w.vector,
      textWeight: w.text,
      scoreThreshold: p.score_threshold ?? null,
      mmrLambda: p.mmr_lambda,
      halfLifeDays: p.half_life_days,
      now: new Date(),
    }).map((r) => ({ hit: r.item.hit, score: r.score, details: r.details }));
  }
  const info = await extras(
    sql,
    storeId,
    hits.map((h) => h.hit.fileId),
  );
  await touchVectorStore(sql, [storeId]);
  return {
    object: 'list',
    data: hits.map(({ hit, score, details }) => ({
      file_id: hit.fileId,
      filename: hit.filename,
      chunk_index: hit.chunkIndex,
      content: hit.content,
      score,
      metadata: chunkMetadata(hit.attributes),
      file_attributes: info.get(hit.fileId)?.file_attributes ?? null,
      score_details: details,
    })),
    search_query: p.query,
    search_mode: p.search_mode,
  };
}
