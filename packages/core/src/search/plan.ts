import type { Sql } from '../db/client.ts';
import type { Fragment } from '../db/fragment.ts';

/**
 * When a search ranks exactly (every distance computed, no index), by engine: a store of at most `store`
 * chunks, or a filter that at most `matches` chunks pass. Two figures because the exact scan reads every
 * chunk of the stores (no index serves an attribute filter), so its cost follows the store's size, while
 * the index walk's follows the share that passes. Both are where the bench measured the exact scan to
 * stop being the faster (raised to where the walk keeps recall@10 >= 0.95): `search.crossover` in
 * bench/results/latest.json, docs/BENCHMARKS.md. SEARCH_EXACT_THRESHOLD sets both.
 */
export interface ExactThreshold {
  store: number;
  matches: number;
}
export const EXACT_THRESHOLD: Record<'embedded' | 'external', ExactThreshold> = {
  // Measured (load 7-8 on 2 shared cores): a whole 20,000-chunk store costs 135 ms exact and 19 ms through
  // the index on PGlite, 31 and 10.5 ms on native (100,000 chunks: 121 and 9.5 ms), so the store sizes at
  // which both cost the same are about 2,800 and 7,000-7,800. By matches, the walk is the faster from about
  // 1,000 (PGlite, 20k) and 400-1,100 (native, 20k-100k), but at 100,000 chunks it keeps recall@10 >= 0.95
  // only from 5 % of the table (5,051 matches: 0.96; 2,020: 0.87), the same algorithm on both engines.
  embedded: { store: 3_000, matches: 5_000 },
  external: { store: 7_000, matches: 5_000 },
};
/** The production engine's store threshold (a native server), for callers that do not know their engine. */
export const DEFAULT_EXACT_THRESHOLD = EXACT_THRESHOLD.external.store;

export const exactThresholdFor = (kind: 'embedded' | 'external', configured?: number): ExactThreshold =>
  configured === undefined ? EXACT_THRESHOLD[kind] : { store: configured, matches: configured };

/** A filter's matches are counted up to this many (or the match threshold, if larger) to size a scan. */
export const MATCH_COUNT_BOUND = 2_000;
/** Bounds of hnsw.max_scan_tuples: pgvector's default, and what one query may visit at most. */
export const MIN_SCAN_TUPLES = 20_000;
export const MAX_SCAN_TUPLES = 200_000;
const MAX_EF_SEARCH = 1000; // pgvector's upper bound
/**
 * The relaxed-order walk returns later batches that may beat earlier ones, so it takes `overfetch` x need
 * passing rows, then re-sorts and cuts. The narrower the filter, the more out of order what passes comes:
 * 0.4 / share, between 2 and 8 (at 100,000 chunks, a 5 % filter's recall@10 went 0.918 -> 0.968 from 2 to
 * 8, a 10 % filter's 0.968 -> 0.978 from 2 to 4: bench/results, `search.cases`).
 */
const OVERFETCH_SHARE = 0.4;
const MIN_OVERFETCH = 2;
const MAX_OVERFETCH = 8;

export type Scan = 'exact' | 'hnsw';

/**
 * Recent match counts by stores and filter. A stale count can only pick the slower of two correct
 * scans (an index walk that comes back short falls back to the exact scan in the same statement),
 * so a few seconds of reuse is safe, and it spares repeated filter shapes the counting.
 */
const COUNT_TTL_MS = 10_000;
const counts = new Map<string, { matches: number; at: number }>();

export function knownMatches(key: string): number | null {
  const hit = counts.get(key);
  return hit && Date.now() - hit.at <= COUNT_TTL_MS ? hit.matches : null;
}

export function rememberMatches(key: string, matches: number): void {
  if (counts.size >= 1000) counts.clear();
  counts.set(key, { matches, at: Date.now() });
}

/**
 * The plan, as common table expressions of the search statement, so that planning costs no round trip:
 * - `m`: the filter's matches, counted under their own bound, only when the store's chunk count
 *   (kept with the store) exceeds the exact threshold and no recent count is known;
 * - `p`: exact when the stores hold at most `exactThreshold` chunks, or at most `matchThreshold` pass the
 *   filter, whatever the store's size;
 *   else an iterative HNSW scan whose beam, budget and over-fetch follow the share of index entries that
 *   qualify (the index spans every store): a 1 % filter widens ef_search towards 100 x need.
 * `s` is the scope (stores, their chunk count `n`, the table's size).
 */
export function planCtes(
  sql: Sql,
  o: {
    where: Fragment;
    filtered: boolean;
    known: number | null;
    need: number;
    exactThreshold: number;
    matchThreshold: number;
    efSearch: number;
  },
): Fragment {
  const bound = Math.max(MATCH_COUNT_BOUND, o.matchThreshold) + 1;
  const count = o.filtered
    ? sql`CASE WHEN ${o.known}::int IS NOT NULL THEN ${o.known}::int
        WHEN s.n <= ${o.exactThreshold}::float8 THEN NULL
        ELSE (SELECT count(*)::int FROM (SELECT 1 FROM chunks c WHERE ${o.where} LIMIT ${bound}::int) z) END`
    : sql`NULL::int`;
  return sql`
    m AS MATERIALIZED (SELECT ${count} AS matches FROM s),
    p AS MATERIALIZED (
      SELECT CASE WHEN s.n <= ${o.exactThreshold}::float8 OR m.matches <= ${o.matchThreshold}::int THEN 'exact' ELSE 'hnsw' END AS scan,
        least(greatest(ceil(${o.need}::float8 / x.share), ${Math.max(o.efSearch, o.need, 1)}::float8), ${MAX_EF_SEARCH}::float8)::int AS ef,
        least(greatest(ceil(${2 * o.need}::float8 / x.share), ${MIN_SCAN_TUPLES}::float8), ${MAX_SCAN_TUPLES}::float8)::int AS tuples,
        least(greatest(ceil(${OVERFETCH_SHARE}::float8 / x.share), ${MIN_OVERFETCH}::float8), ${MAX_OVERFETCH}::float8)::int AS overfetch
      FROM s, m, LATERAL (SELECT greatest(coalesce(m.matches::float8, s.n), 1) / greatest(s.table_rows, s.n, 1) AS share) x)`;
}

/**
 * Sets pgvector for the index walk from inside the statement: set_config(..., true) lasts until the end
 * of the statement's transaction, and pgvector reads these settings when the walk starts, which the
 * one-time filter `(SELECT go FROM g)` holds back until they are set. Nothing leaks into the session.
 */
export function scanSettingsCte(sql: Sql): Fragment {
  return sql`
    g AS MATERIALIZED (SELECT CASE WHEN p.scan = 'hnsw' THEN
        set_config('hnsw.iterative_scan', 'relaxed_order', true) IS NOT NULL
        AND set_config('hnsw.ef_search', p.ef::text, true) IS NOT NULL
        AND set_config('hnsw.max_scan_tuples', p.tuples::text, true) IS NOT NULL
      ELSE false END AS go FROM p)`;
}
