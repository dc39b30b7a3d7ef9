// Where the exact scan stops being faster than the HNSW walk, by the number of chunks a search ranks.
import type { Sql } from '@vsdb/core/db/client';
import type { Filter } from '@vsdb/core/search/filters';
import { interleave, ms, recallOf } from './interleave.ts';
import type { StoredChunk } from './load.ts';
import { coreSearch } from './probes.ts';
import { progress } from './stats.ts';
import { exactTopK } from './vectors.ts';

/** Shares of the store (bucket < b keeps b %) at which both scans are timed; 100 is the whole store. */
const SHARES = [1, 2, 5, 10, 20, 50, 100];
/** Recall the HNSW walk must keep for the threshold to hand a candidate set to it. */
const RECALL_FLOOR = 0.95;

export interface CrossoverPoint {
  matches: number;
  exact_p50_ms: number;
  hnsw_p50_ms: number;
  hnsw_recall_at_10: number;
}

/**
 * The search core at each share of the store, once forced exact and once forced through the index
 * (the threshold it would otherwise apply set to infinity, then to 0), every query through both in
 * turn. `crossover_matches`: where the index walk becomes the faster, interpolated between the two
 * shares around the change; `threshold`: the match threshold that follows (the crossover, raised to
 * where the walk keeps recall@10 >= 0.95 at every larger size measured); `store_threshold`: the store
 * size at which an unfiltered exact scan costs what the walk does (the exact scan's cost taken as
 * proportional to the store's size, from the whole store's).
 */
export async function measureCrossover(
  sql: Sql,
  store: string,
  queries: Float32Array[],
  rows: StoredChunk[],
  efSearch: number,
) {
  const points: CrossoverPoint[] = [];
  for (const share of SHARES) {
    const filter: Filter | undefined = share < 100 ? { type: 'lt', key: 'bucket', value: share } : undefined;
    const candidates = rows.filter((r) => r.bucket < share);
    const truth = queries.map((q) => exactTopK(q, candidates, 10));
    const runs = await interleave(queries, {
      exact: (q) => coreSearch(sql, store, q, { filter, efSearch, exactThreshold: 1e9 }),
      hnsw: (q) => coreSearch(sql, store, q, { filter, efSearch, exactThreshold: 0 }),
    });
    points.push({
      matches: candidates.length,
      exact_p50_ms: ms(runs.exact),
      hnsw_p50_ms: ms(runs.hnsw),
      hnsw_recall_at_10: recallOf(runs.hnsw, truth),
    });
    progress(`search crossover: ${JSON.stringify(points.at(-1))}`);
  }
  const crossover = crossoverOf(points);
  // The walk must keep its recall at every size measured above the threshold: below the first point
  // from which it does, stay exact.
  const lastShort = points.findLastIndex((p) => p.hnsw_recall_at_10 < RECALL_FLOOR);
  const recallFrom = lastShort < 0 ? 0 : (points[lastShort + 1]?.matches ?? Number.POSITIVE_INFINITY) - 1;
  const threshold = Math.max(crossover ?? Number.POSITIVE_INFINITY, recallFrom);
  // The exact scan reads every chunk of the store whatever the filter, so its cost follows the store's size:
  // from the whole store's exact scan (through the origin), the size at which it costs what the walk does.
  const whole = points.at(-1)!;
  const storeThreshold = Math.round((whole.matches * whole.hnsw_p50_ms) / whole.exact_p50_ms);
  return {
    points,
    crossover_matches: crossover,
    recall_floor: RECALL_FLOOR,
    threshold: Number.isFinite(threshold) ? threshold : null,
    store_threshold: storeThreshold,
  };
}

/** The first change from exact-faster to hnsw-faster, interpolated linearly; null if exact never loses. */
export function crossoverOf(points: CrossoverPoint[]): number | null {
  const gap = (p: CrossoverPoint) => p.exact_p50_ms - p.hnsw_p50_ms; // > 0: the walk is faster
  if (points.length && gap(points[0]!) > 0) return points[0]!.matches;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1]!, points[i]!];
    if (gap(a) <= 0 && gap(b) > 0) {
      const t = -gap(a) / (gap(b) - gap(a));
      return Math.round(a.matches + t * (b.matches - a.matches));
    }
  }
  return null;
}
