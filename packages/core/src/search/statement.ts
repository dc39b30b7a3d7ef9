import type { Sql } from '../db/client.ts';
import type { Fragment } from '../db/fragment.ts';
import { visibleChunk } from '../ingest/chunk-write.ts';
import { bm25Of, keywordCandidatesCte, keywordCtes, textScoreOf } from './bm25.ts';
import { planCtes, scanSettingsCte } from './plan.ts';
import type { SearchMode, SearchWeights } from './search.ts';

export interface StatementOptions {
  projectId: string;
  storeIds: string[];
  /** The filter over c.attributes, and the same over another column. */
  filter: Fragment | null;
  filterOver: (column: Fragment) => Fragment;
  vector: string | null;
  text: string | null;
  mode: SearchMode;
  /** Candidates taken from each side. */
  k: number;
  offset: number;
  limit: number;
  weights: SearchWeights;
  scoreThreshold: number | null;
  exactThreshold: number;
  matchThreshold: number;
  efSearch: number;
  /** A recent count of the filter's matches, if one is known. */
  known: number | null;
}

/**
 * The scope: the project's stores among those asked for (which exist, which have expired), the chunk
 * and lexeme counts kept with them, and the table's size (reltuples) for the share of the HNSW index.
 */
const scopeCte = (sql: Sql, o: StatementOptions) => sql`
  s AS MATERIALIZED (
    SELECT coalesce(array_agg(x.id ORDER BY x.id) FILTER (WHERE NOT x.expired), '{}') AS ids,
      coalesce(array_agg(x.id), '{}') AS found,
      coalesce(array_agg(x.id) FILTER (WHERE x.expired), '{}') AS expired,
      coalesce(sum(x.chunk_count) FILTER (WHERE NOT x.expired), 0)::float8 AS n,
      coalesce(sum(x.token_count) FILTER (WHERE NOT x.expired), 0)::float8 AS tokens,
      (SELECT greatest(reltuples, 0)::float8 FROM pg_class WHERE oid = 'chunks'::regclass) AS table_rows
    FROM (SELECT id, chunk_count, token_count, coalesce(expires_at <= now(), false) AS expired
          FROM vector_stores WHERE project_id = ${o.projectId} AND id = ANY(${o.storeIds}::text[])) x)`;

/**
 * The embedding side: `h`, the iterative HNSW walk (its subquery orders the whole table by distance,
 * so only the index can serve it; OFFSET 0 keeps scope and filter outside, where the walk continues
 * until enough rows pass them; it reads attributes only for a filter: 0.08 of 0.65 ms unfiltered); `w`, exact unless the plan walks the index and the walk found enough;
 * `e`, the exact scan (ordering by cosine_distance(), which no index serves); `vc`, the k nearest.
 */
function vectorCtes(sql: Sql, o: StatementOptions, where: Fragment): Fragment[] {
  // No cast: the parameter takes the column's type (halfvec, or vector on the embedded engine: 0008).
  const v = sql`${o.vector}`;
  const outer = sql`v.vector_store_id = ANY((SELECT ids FROM s)::text[])${
    o.filter ? sql` AND ${o.filterOver(sql`v.attributes`)}` : sql``
  }`;
  return [
    planCtes(sql, {
      where,
      filtered: o.filter !== null,
      known: o.known,
      need: o.k,
      exactThreshold: o.exactThreshold,
      matchThreshold: o.matchThreshold,
      efSearch: o.efSearch,
    }),
    scanSettingsCte(sql),
    // Unpublished drafts are dropped from what the walk found, not inside it: a join there keeps the planner
    // from seeing the LIMIT and it sorts the whole table instead. A walk short of k (drafts crowding it out)
    // falls back to the exact scan, which skips them itself.
    sql`h AS MATERIALIZED (
      SELECT v.id, v.distance FROM (
        SELECT v.id, v.vector_store_id, v.file_id, v.generation, v.distance FROM (
          SELECT c.id, c.vector_store_id, c.file_id, c.generation${o.filter ? sql`, c.attributes` : sql``}, c.embedding <=> ${v} AS distance
          FROM chunks c
          WHERE (SELECT go FROM g) ORDER BY distance OFFSET 0
        ) v WHERE ${outer} LIMIT ${o.k}::int * (SELECT overfetch FROM p)
      ) v WHERE ${visibleChunk(sql, sql`v`)})`,
    sql`w AS MATERIALIZED (SELECT CASE WHEN p.scan = 'exact' THEN 'exact'
        WHEN (SELECT count(*) FROM h) < ${o.k} THEN 'exact' ELSE 'hnsw' END AS scan FROM p)`,
    sql`e AS (
      SELECT c.id, cosine_distance(c.embedding, ${v}) AS distance FROM chunks c
      WHERE (SELECT scan FROM w) = 'exact' AND ${where}
      ORDER BY distance, c.id LIMIT ${o.k})`,
    sql`vc AS (
      SELECT id, distance FROM (
        SELECT id, distance FROM e UNION ALL SELECT id, distance FROM h WHERE (SELECT scan FROM w) = 'hnsw'
      ) x ORDER BY distance, id LIMIT ${o.k})`,
  ];
}

const vectorScore = (sql: Sql, d: Fragment) =>
  sql`CASE WHEN ${d} = 'NaN'::float8 THEN 0 ELSE least(greatest(1 - ${d}, 0), 1) END`;

/** The candidates with both scores, computed exactly for each of them. */
function scoredCte(sql: Sql, o: StatementOptions): Fragment {
  if (o.mode === 'vector') {
    return sql`scored AS (SELECT id, ${vectorScore(sql, sql`distance`)} AS vector,
      NULL::float8 AS text, NULL::float8 AS bm25 FROM vc)`;
  }
  if (o.mode === 'keyword') {
    return sql`scored AS (SELECT kw.id, NULL::float8 AS vector, ${textScoreOf(sql, sql`kw.bm25`)} AS text,
      kw.bm25 FROM kw LEFT JOIN qt ON true)`;
  }
  return sql`scored AS (
    SELECT y.id, ${vectorScore(sql, sql`y.distance`)} AS vector, ${textScoreOf(sql, sql`y.bm25`)} AS text, y.bm25
    FROM (SELECT c.id, c.embedding <=> ${o.vector} AS distance,
            CASE WHEN c.tsv @@ tq.query THEN ${bm25Of(sql, sql`c.tsv`)} ELSE 0 END AS bm25
          FROM (SELECT id FROM kw UNION SELECT id FROM vc) u JOIN chunks c ON c.id = u.id
            CROSS JOIN tq LEFT JOIN qt ON true) y
      LEFT JOIN qt ON true)`;
}

function fusedScore(sql: Sql, o: StatementOptions): Fragment {
  if (o.mode === 'vector') return sql`vector`;
  if (o.mode === 'keyword') return sql`text`;
  const { embedding: we, text: wt } = o.weights;
  return sql`(${we}::float8 * vector + ${wt}::float8 * text) / ${we + wt}::float8`;
}

/** The whole search as one statement; its rows are the page (plus one row past it), or one row of nulls. */
export function searchStatement(sql: Sql, o: StatementOptions): Fragment {
  const where = sql`c.vector_store_id = ANY((SELECT ids FROM s)::text[]) AND ${visibleChunk(sql, sql`c`)}${
    o.filter ? sql` AND ${o.filter}` : sql``
  }`;
  const ctes: Fragment[] = [scopeCte(sql, o)];
  if (o.vector) ctes.push(...vectorCtes(sql, o, where));
  if (o.text && o.mode !== 'vector')
    ctes.push(keywordCtes(sql, o.text), keywordCandidatesCte(sql, where, o.k));
  ctes.push(scoredCte(sql, o));
  const threshold = o.scoreThreshold;
  ctes.push(sql`ranked AS (
    SELECT id, vector, text, bm25, score, row_number() OVER (ORDER BY score DESC, id) AS rn
    FROM (SELECT *, ${fusedScore(sql, o)} AS score FROM scored) z
    WHERE ${threshold}::float8 IS NULL OR score >= ${threshold}::float8)`);
  const list = ctes.reduce((acc, c) => sql`${acc}, ${c}`);
  const scan = o.vector ? sql`(SELECT scan FROM w)` : sql`NULL::text`;
  const matches = o.vector && o.filter ? sql`(SELECT matches FROM m)` : sql`NULL::int`;
  return sql`
    WITH ${list}
    SELECT s.found, s.expired, ${scan} AS scan, ${matches} AS matches, x.* FROM s LEFT JOIN LATERAL (
      SELECT r.rn::int AS rn, r.score, r.vector, r.text, r.bm25, c.id AS "chunkId",
        c.vector_store_id AS "vectorStoreId", c.file_id AS "fileId", f.filename,
        c.chunk_index AS "chunkIndex", c.content, c.attributes, c.page
      FROM ranked r JOIN chunks c ON c.id = r.id JOIN files f ON f.id = c.file_id
      WHERE r.rn > ${o.offset} AND r.rn <= ${o.offset + o.limit + 1}
    ) x ON true ORDER BY x.rn`;
}
