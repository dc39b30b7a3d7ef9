import type postgres from 'postgres';
import type { Tx } from '../db/client.ts';

/** Candidate sets at most this large are searched exactly (every distance computed, no index). */
export const DEFAULT_EXACT_THRESHOLD = 10_000;
/** A store is counted (and its filter evaluated) over at most this many chunks to size the search. */
export const COUNT_SAMPLE_ROWS = 50_000;
/** Bounds of hnsw.max_scan_tuples: pgvector's default, and what one query may visit at most. */
export const MIN_SCAN_TUPLES = 20_000;
export const MAX_SCAN_TUPLES = 200_000;
const MAX_EF_SEARCH = 1000; // pgvector's upper bound

export type Scan = 'exact' | 'hnsw';
export interface ScanPlan {
  scan: Scan;
  /** hnsw.ef_search for an index scan. */
  efSearch: number;
  /** hnsw.max_scan_tuples for an iterative index scan. */
  maxScanTuples: number;
}

/** The plan for an exact scan. */
export const EXACT: ScanPlan = { scan: 'exact', efSearch: 0, maxScanTuples: 0 };

type Fragment = postgres.PendingQuery<postgres.Row[]>;

/**
 * Recent counts by stores and filter. A stale count can only pick the slower of two correct scans (an
 * index walk that comes back short falls back to an exact scan), so a few seconds of reuse is safe,
 * and it saves the counting query on every repeated search shape.
 */
const COUNT_TTL_MS = 10_000;
const counts = new Map<string, { rows: number; matches: number; at: number }>();

/**
 * Chooses between an exact scan and an iterative HNSW scan. The HNSW index spans every store, so
 * what matters is how many chunks pass scope and filter (the candidates) against the whole table:
 * few candidates are cheaper to rank exactly and an index scan would have to walk far to find
 * them. Counting is bounded: at most COUNT_SAMPLE_ROWS chunks of the stores are looked at.
 */
export async function planScan(
  tx: Tx,
  opts: {
    storeIds: string[];
    filter: Fragment | null;
    need: number;
    exactThreshold: number;
    tableRows: number;
    efSearch: number;
    /** Names the stores and filter, to reuse a recent count (omit to always count). */
    cacheKey?: string;
  },
): Promise<ScanPlan> {
  const { storeIds, filter, need, exactThreshold, cacheKey } = opts;
  const cap = Math.max(COUNT_SAMPLE_ROWS, exactThreshold);
  const now = Date.now();
  let counted = cacheKey === undefined ? undefined : counts.get(`${cap}:${cacheKey}`);
  if (!counted || now - counted.at > COUNT_TTL_MS) {
    const [row] = await tx<{ rows: number; matches: number }[]>`
      SELECT count(*) AS rows, count(*) FILTER (WHERE ${filter ?? tx`true`}) AS matches
      FROM (SELECT attributes FROM chunks WHERE vector_store_id = ANY(${storeIds}::text[]) LIMIT ${cap + 1}) c`;
    counted = { rows: row?.rows ?? 0, matches: row?.matches ?? 0, at: now };
    if (cacheKey !== undefined) {
      if (counts.size >= 1000) counts.clear();
      counts.set(`${cap}:${cacheKey}`, counted);
    }
  }
  const { rows, matches } = counted;
  const complete = rows <= cap;
  if (rows <= exactThreshold || (complete && matches <= exactThreshold)) {
    return EXACT;
  }
  // The share of index entries that qualify. When the count stopped early, the likely share takes
  // the stores to fill the table (sizing the beam optimistically) and the lowest share takes them
  // to hold only what was counted (sizing the budget generously); the iterative scan covers the gap.
  const tableRows = Math.max(opts.tableRows, rows);
  const likely = Math.max((matches / rows) * (complete ? rows / tableRows : 1), 1 / tableRows);
  const lowest = Math.max(matches, 1) / tableRows;
  return {
    scan: 'hnsw',
    // A beam as wide as the walk it replaces finds qualifying neighbours better than many narrow
    // iterations: with a 1% filter, ef_search rises to ~100 x need (pgvector caps it at 1000).
    efSearch: clamp(Math.ceil(need / likely), Math.max(opts.efSearch, need, 1), MAX_EF_SEARCH),
    maxScanTuples: clamp(Math.ceil((2 * need) / lowest), MIN_SCAN_TUPLES, MAX_SCAN_TUPLES),
  };
}

const clamp = (x: number, min: number, max: number) => Math.min(Math.max(x, min), max);

/**
 * Sets the planner and pgvector for one scan, transaction-locally (a session SET would leak to every
 * connection of the embedded server). Custom plans only: a cached generic plan would ignore these.
 */
export async function applyScan(tx: Tx, plan: ScanPlan): Promise<void> {
  if (plan.scan === 'exact') {
    // HNSW supports only plain index scans; bitmap scans (store id, GIN) stay available.
    await tx`SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
      set_config('enable_indexscan', 'off', true), set_config('enable_sort', 'on', true)`;
    return;
  }
  // Without a Sort node allowed, ORDER BY distance LIMIT k must walk the HNSW index; relaxed order
  // keeps walking until enough rows pass the filters, and the caller re-sorts by exact distance.
  await tx`SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
    set_config('enable_indexscan', 'on', true), set_config('enable_sort', 'off', true),
    set_config('hnsw.iterative_scan', 'relaxed_order', true),
    set_config('hnsw.ef_search', ${String(plan.efSearch)}, true),
    set_config('hnsw.max_scan_tuples', ${String(plan.maxScanTuples)}, true)`;
}
