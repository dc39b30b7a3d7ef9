// Search latency through the API against the bare SQL floor, and recall against exact search.

import type { Filter } from '@vsdb/core/search/filters';
import { exactThresholdFor } from '@vsdb/core/search/plan';
import { measureBreakdown } from './breakdown.ts';
import { measureCrossover } from './crossover.ts';
import type { BenchApp } from './db.ts';
import { interleave, ms, recallOf } from './interleave.ts';
import { buildVectorIndex, dropVectorIndex, loadStore, type StoredChunk } from './load.ts';
import {
  apiSearch,
  type ChunkKeys,
  chunkKey,
  coreSearch,
  type Probe,
  type SqlScan,
  sqlPlan,
  sqlSearch,
  withSqlScan,
} from './probes.ts';
import { benchQuality } from './quality.ts';
import { median, progress, round, timed } from './stats.ts';
import { benchThroughput } from './throughput.ts';
import { type Corpus, cosine, exactTopK, generateCorpus } from './vectors.ts';

export interface SearchOptions {
  chunks: number;
  /** Smaller stores for latency against store size (those above the exact threshold share the index). */
  sizes: number[];
  queries: number;
  efValues: number[];
  seed: number;
}

interface FilterCase {
  name: 'unfiltered' | 'filtered_10pct' | 'filtered_1pct';
  filter?: Filter;
  keep: (bucket: number) => boolean;
}
const CASES: FilterCase[] = [
  { name: 'unfiltered', keep: () => true },
  { name: 'filtered_10pct', filter: { type: 'lt', key: 'bucket', value: 10 }, keep: (b) => b < 10 },
  { name: 'filtered_1pct', filter: { type: 'eq', key: 'bucket', value: 42 }, keep: (b) => b === 42 },
];

/** Every search figure; `app` must be fresh (no chunks) with EMBEDDING_DIMENSIONS set. */
export async function benchSearch(app: BenchApp, opts: SearchOptions) {
  const { sql } = app.db;
  const dims = app.config.EMBEDDING_DIMENSIONS;
  const efSearch = app.config.HNSW_EF_SEARCH;
  const indexdef = await dropVectorIndex(sql);

  // Stores the exact scan serves are measured before the index exists, then removed, so the index
  // build pays only for the rows that use it.
  const sizeCurve = [];
  let seed = opts.seed;
  const threshold = exactThresholdFor(app.db.kind).store;
  const big = opts.sizes.filter((s) => s > threshold);
  for (const size of opts.sizes.filter((s) => s <= threshold)) {
    const corpus = generateCorpus({ dims, chunks: size, queries: opts.queries, seed: ++seed });
    const store = `vs_size_${size}`;
    const rows = await loadStore(sql, store, corpus.docs);
    await sql`ANALYZE chunks`;
    sizeCurve.push(await measureStore(app, store, corpus, rows, { scan: 'exact' }));
    await sql`DELETE FROM vector_stores WHERE id = ${store}`;
    await sql`DELETE FROM files WHERE id LIKE ${`file-${store}-%`}`;
    await sql`VACUUM chunks`;
  }
  const others: { size: number; store: string; corpus: Corpus; rows: StoredChunk[] }[] = [];
  for (const size of big) {
    const corpus = generateCorpus({ dims, chunks: size, queries: opts.queries, seed: ++seed });
    const store = `vs_size_${size}`;
    others.push({ size, store, corpus, rows: await loadStore(sql, store, corpus.docs) });
  }

  progress(`search: generating and loading ${opts.chunks} chunks of ${dims} dimensions`);
  const corpus = generateCorpus({ dims, chunks: opts.chunks, queries: opts.queries, seed: opts.seed });
  const load = await timed(() => loadStore(sql, 'vs_main', corpus.docs));
  const rows = load.value;
  progress(`search: loaded in ${(load.ms / 1000).toFixed(1)} s; building the HNSW index`);
  const build = await timed(() => buildVectorIndex(sql, indexdef));
  progress(`search: index built in ${(build.ms / 1000).toFixed(1)} s`);
  const keys = keysOf(corpus, 'vs_main', rows);
  const queries = corpus.queries;

  const hnswScan: SqlScan = { scan: 'hnsw', efSearch };
  let bare: Probe[] = [];
  const cases = [];
  for (const c of CASES) {
    const candidates = rows.filter((r) => c.keep(r.bucket));
    const truth = queries.map((q) => exactTopK(q, candidates, 10));
    // The bare SQL is unfiltered: it runs in every case to share its conditions.
    const {
      api,
      core,
      forced,
      bare: raw,
    } = await interleave(queries, {
      api: (q) => apiSearch(app.url, 'vs_main', q, keys, c.filter),
      core: (q) => coreSearch(sql, 'vs_main', q, { filter: c.filter, efSearch }),
      forced: (q) => coreSearch(sql, 'vs_main', q, { filter: c.filter, efSearch, exactThreshold: 0 }),
      bare: (q) => withSqlScan(sql, hnswScan, (tx) => sqlSearch(tx, 'vs_main', q)),
    });
    if (!c.filter) {
      bare = raw;
    }
    const { scan } = await coreSearch(sql, 'vs_main', queries[0]!, { filter: c.filter, efSearch });
    cases.push({
      name: c.name,
      share: round(candidates.length / rows.length, 4),
      scan,
      p50_ms: ms(api),
      p95_ms: ms(api, 0.95),
      core_p50_ms: ms(core),
      recall_at_10: recallOf(api, truth),
      hnsw_p50_ms: ms(forced),
      hnsw_recall_at_10: recallOf(forced, truth),
    });
    progress(`search ${c.name}: ${JSON.stringify(cases.at(-1))}`);
  }
  progress('search: where the time goes (HTTP, core, prepared statements, planning)');
  const breakdown = await measureBreakdown(app, 'vs_main', queries, keys);
  progress(`search breakdown: ${JSON.stringify(breakdown)}`);
  progress('search: exact scan against the HNSW walk by matching chunks');
  const crossover = await measureCrossover(sql, 'vs_main', queries.slice(0, 40), rows, efSearch);
  const truth = queries.map((q) => exactTopK(q, rows, 10));
  const sqlScan = await withSqlScan(sql, hnswScan, (tx) => sqlPlan(tx, 'vs_main', queries[0]!));
  const bareExact = await withSqlScan(sql, { scan: 'exact' }, (tx) =>
    run(queries.slice(0, 30), (q) => sqlSearch(tx, 'vs_main', q)),
  );
  const main = cases[0]!;

  // Every ef_search answers each query in turn, so load on the machine falls on all of them alike.
  const servers = await Promise.all(opts.efValues.map((ef) => app.variant({ HNSW_EF_SEARCH: ef })));
  const efCurve = [];
  try {
    const probes: Record<string, (q: Float32Array) => Promise<Probe>> = {};
    opts.efValues.forEach((ef, i) => {
      probes[`api${ef}`] = (q) => apiSearch(servers[i]!.url, 'vs_main', q, keys);
      probes[`sql${ef}`] = (q) =>
        withSqlScan(sql, { scan: 'hnsw', efSearch: ef }, (tx) => sqlSearch(tx, 'vs_main', q));
    });
    const runs = await interleave(queries, probes);
    for (const ef of opts.efValues) {
      const [api, raw] = [runs[`api${ef}`]!, runs[`sql${ef}`]!];
      efCurve.push({
        ef_search: ef,
        p50_ms: ms(api),
        recall_at_10: recallOf(api, truth),
        sql_p50_ms: ms(raw),
        sql_recall_at_10: recallOf(raw, truth),
      });
      progress(`search ef_search=${ef}: ${JSON.stringify(efCurve.at(-1))}`);
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }

  for (const o of others) sizeCurve.push(await measureStore(app, o.store, o.corpus, o.rows, hnswScan));
  sizeCurve.push({
    chunks: rows.length,
    scan: main.scan,
    p50_ms: main.p50_ms,
    p95_ms: main.p95_ms,
    sql_p50_ms: ms(bare),
    sql_exact_p50_ms: ms(bareExact),
    recall_at_10: main.recall_at_10,
  });
  sizeCurve.sort((a, b) => a.chunks - b.chunks);

  progress('search: throughput at 1 / 4 / 16 clients, CPU per search');
  const throughput = await benchThroughput(app.url, 'vs_main', queries, keys, Math.min(queries.length, 100));
  progress(`search throughput: ${JSON.stringify(throughput)}`);
  progress('search: retrieval quality on license texts');
  const quality = await benchQuality(app.url);
  progress(`search quality: ${JSON.stringify(quality)}`);

  const sqlP50 = ms(bare);
  return {
    dims,
    chunks: rows.length,
    table_chunks: rows.length + others.reduce((n, o) => n + o.rows.length, 0),
    documents: corpus.docs.length,
    queries: queries.length,
    ef_search: efSearch,
    exact_threshold: threshold,
    exact_match_threshold: exactThresholdFor(app.db.kind).matches,
    load_s: round(load.ms / 1000, 1),
    index_build_s: round(build.ms / 1000, 1),
    p50_ms: main.p50_ms,
    p95_ms: main.p95_ms,
    core_p50_ms: main.core_p50_ms,
    sql_p50_ms: sqlP50,
    sql_p95_ms: ms(bare, 0.95),
    sql_scan: sqlScan,
    sql_recall_at_10: recallOf(bare, truth),
    sql_exact_p50_ms: ms(bareExact),
    overhead_ratio: round(main.p50_ms / sqlP50, 2),
    recall_at_10: main.recall_at_10,
    recall_at_10_filtered_10pct: cases[1]!.recall_at_10,
    recall_at_10_filtered_1pct: cases[2]!.recall_at_10,
    cases,
    breakdown,
    crossover,
    ...throughput,
    quality,
    ef_curve: efCurve,
    size_curve: sizeCurve,
    data: dataShape(corpus, rows, truth),
  };
}

async function run<T extends Probe>(
  queries: Float32Array[],
  fn: (q: Float32Array) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (const q of queries) out.push(await fn(q));
  return out;
}

function keysOf(corpus: Corpus, store: string, rows: StoredChunk[]): ChunkKeys {
  const keys: ChunkKeys = new Map();
  let i = 0;
  for (const d of corpus.docs) {
    for (let c = 0; c < d.chunks.length; c++)
      keys.set(chunkKey(`file-${store}-${d.index}`, c), rows[i++]!.id);
  }
  return keys;
}

/** Latency of one store through the API and as bare SQL with the scan the API would choose. */
async function measureStore(
  app: BenchApp,
  store: string,
  corpus: Corpus,
  rows: StoredChunk[],
  scan: SqlScan,
) {
  const { sql } = app.db;
  const keys = keysOf(corpus, store, rows);
  const queries = corpus.queries;
  const truth = queries.map((q) => exactTopK(q, rows, 10));
  const { api, bare } = await interleave(queries, {
    api: (q) => apiSearch(app.url, store, q, keys),
    bare: (q) => withSqlScan(sql, scan, (tx) => sqlSearch(tx, store, q)),
  });
  const core = await coreSearch(sql, store, queries[0]!, { efSearch: app.config.HNSW_EF_SEARCH });
  const exact =
    scan.scan === 'exact'
      ? bare
      : await withSqlScan(sql, { scan: 'exact' }, (tx) =>
          run(queries.slice(0, 30), (q) => sqlSearch(tx, store, q)),
        );
  const point = {
    chunks: rows.length,
    scan: core.scan,
    p50_ms: ms(api),
    p95_ms: ms(api, 0.95),
    sql_p50_ms: ms(bare),
    sql_exact_p50_ms: ms(exact),
    recall_at_10: recallOf(api, truth),
  };
  progress(`search store of ${rows.length}: ${JSON.stringify(point)}`);
  return point;
}

/** How alike the generated vectors are, so a reader can judge the data against real embeddings. */
function dataShape(corpus: Corpus, rows: StoredChunk[], truth: number[][]) {
  const byId = new Map(rows.map((r) => [r.id, r.v]));
  const docs = corpus.docs.filter((d) => d.chunks.length >= 2);
  const pairs = (pick: (i: number) => [Float32Array, Float32Array] | null) => {
    const sims: number[] = [];
    for (let i = 0; i < 400; i++) {
      const pair = pick(i);
      if (pair) sims.push(cosine(...pair));
    }
    return round(median(sims), 3);
  };
  const docAt = (i: number) => docs[(i * 7919) % docs.length]!;
  return {
    generator: 'bench/vectors.ts: shared direction + topic + document + chunk noise, half precision',
    topics: new Set(corpus.docs.map((d) => d.topic)).size,
    cosine_unrelated: pairs((i) => {
      const [a, b] = [docAt(i), docAt(i + 1)];
      return a.topic === b.topic ? null : [a.chunks[0]!, b.chunks[0]!];
    }),
    cosine_same_topic: pairs((i) => {
      const a = docAt(i);
      const b = docs.find((d) => d.topic === a.topic && d !== a);
      return b ? [a.chunks[0]!, b.chunks[0]!] : null;
    }),
    cosine_same_document: pairs((i) => [docAt(i).chunks[0]!, docAt(i).chunks[1]!]),
    cosine_query_top1: round(median(corpus.queries.map((q, i) => cosine(q, byId.get(truth[i]![0]!)!))), 3),
  };
}
