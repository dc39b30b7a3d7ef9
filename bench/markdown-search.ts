// The search tables that compare engines: where a search's time goes, and exact scan against HNSW.
import type { BenchResult, SearchResult } from './figures.ts';
import { num, table } from './md.ts';

/** Both tables, for PGlite and (when measured) the native server, then a blank line. */
export function searchBreakdown(r: BenchResult): string[] {
  const engines: [string, SearchResult][] = [['PGlite', r.search]];
  if (r.native?.search) engines.push([`native (${r.native.server})`, r.native.search]);
  const lines = [
    "#### Where a search's time goes",
    '',
    'The unfiltered search, each query through every layer in turn. `http`: the same request to a path the app lacks ' +
      '(HTTP both ways, auth, router, a 404); `bare http`: the same to a bare node:http server in its own process. Prepared: named statements (`DATABASE_PREPARE=true`; one round trip ' +
      'instead of two and a plan the server keeps; the embedded engine always uses them). Planning and execution: ' +
      "EXPLAIN ANALYZE of the core's statement.",
    '',
    table(
      [
        'Engine',
        'API p50 ms',
        'http ms',
        'bare http ms',
        'core ms',
        'core prepared ms',
        'bare SQL ms',
        'bare SQL prepared ms',
        'DB planning ms',
        'DB execution ms',
        'ratio prepared',
        'statements',
        'round trips',
      ],
      engines.map(([name, s]) => {
        const b = s.breakdown;
        return [
          name,
          num(b.api_p50_ms),
          num(b.http_p50_ms),
          num(b.bare_http_p50_ms),
          num(b.core_p50_ms),
          num(b.core_prepared_p50_ms),
          num(b.sql_p50_ms),
          num(b.sql_prepared_p50_ms),
          num(b.db_planning_p50_ms),
          num(b.db_execution_p50_ms),
          num(b.overhead_ratio_prepared, 2),
          num(b.statements_per_search, 2),
          num(b.round_trips_per_search, 2),
        ];
      }),
    ),
    '',
    '#### Exact scan against the HNSW walk',
    '',
    'The search core over the main store with filters keeping 1 % to 100 % of it, forced exact and forced through ' +
      'the index, every query through both in turn. The crossover is where the walk becomes the faster ' +
      '(interpolated); the match threshold (`exact_match_threshold`, set per engine in `packages/core/src/search/plan.ts`) is the ' +
      'crossover raised to where the walk keeps recall@10 >= 0.95. The exact scan reads the whole store whatever ' +
      'the filter, so a second threshold, on the store size, is where the whole store costs as much exact as ' +
      'through the index (exact cost taken proportional to size).',
    '',
  ];
  for (const [name, s] of engines) {
    const c = s.crossover;
    lines.push(
      `${name}: crossover ${c.crossover_matches === null ? 'none (exact is faster at every size measured)' : `at ${num(c.crossover_matches)} matching chunks`}; match threshold from it ${num(c.threshold)} (in use: ${num(s.exact_match_threshold as number)}); store threshold from the whole store's scans ${num(c.store_threshold)} (in use: ${num(s.exact_threshold)}).`,
      '',
      table(
        ['Matching chunks', 'exact p50 ms', 'HNSW p50 ms', 'HNSW recall@10'],
        c.points.map((p) => [
          num(p.matches),
          num(p.exact_p50_ms),
          num(p.hnsw_p50_ms),
          num(p.hnsw_recall_at_10, 4),
        ]),
      ),
      '',
    );
  }
  return lines;
}
