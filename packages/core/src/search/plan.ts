import type { Sql } from '../db/client.ts';
import type { Fragment } from '../db/fragment.ts';

/**
 * Candidate sets at most this large are ranked exactly (every distance computed, no index). The bench
 * measures where the exact scan stops being the faster one on each engine (docs/BENCHMARKS.md).
 */
export const DEFAULT_EXACT_THRESHOLD = 10_000;
/** A filter's matches are counted up to this many (or the exact threshold, if larger) to size a scan. */
export const MATCH_COUNT_BOUND = 2_000;
/** Bounds of hnsw.max_scan_tuples: pgvector's default, and what one query may visit at most. */
export const MIN_SCAN_TUPLES = 20_000;
export const MAX_SCAN_TUPLES = 200_000;
const MAX_EF_SEARCH = 1000; // pgvector's upper bound

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
 * - `p`: exact when at most `exactThreshold` chunks pass scope and filter, whatever the store's size;
 *   else an iterative HNSW scan whose beam and budget follow the share of index entries that qualify
 *   (the index spans every store): a 1 % filter widens ef_search towards 100 x need.
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
    efSearch: number;
  },
): Fragment {
  const bound = Math.max(MATCH_COUNT_BOUND, o.exactThreshold) + 1;
  const count = o.filtered
    ? sql`CASE WHEN ${o.known}::int IS NOT NULL THEN ${o.known}::int
        WHEN s.n <= ${o.exactThreshold}::float8 THEN NULL
        ELSE (SELECT count(*)::int FROM (SELECT 1 FROM chunks c WHERE ${o.where} LIMIT ${bound}::int) z) END`
    : sql`NULL::int`;
  return sql`
    m AS MATERIALIZED (SELECT ${count} AS matches FROM s),
    p AS MATERIALIZED (
      SELECT CASE WHEN s.n <= ${o.exactThreshold}::float8 OR m.matches <= ${o.exactThreshold}::int THEN 'exact' ELSE 'hnsw' END AS scan,
        least(greatest(ceil(${o.need}::float8 / x.share), ${Math.max(o.efSearch, o.need, 1)}::float8), ${MAX_EF_SEARCH}::float8)::int AS ef,
        least(greatest(ceil(${2 * o.need}::float8 / x.share), ${MIN_SCAN_TUPLES}::float8), ${MAX_SCAN_TUPLES}::float8)::int AS tuples
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
