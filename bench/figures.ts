// What a run reports: the result's shape, the figures issue 8 requires, and the goals they are judged by.
import type { ChunkingResult } from './chunking.ts';
import type { benchIngest } from './ingest.ts';
import type { LambdaResult } from './lambda.ts';
import type { benchSearch } from './search.ts';

export type SearchResult = Awaited<ReturnType<typeof benchSearch>>;
export type IngestResult = Awaited<ReturnType<typeof benchIngest>>;

export interface Machine {
  cores: number;
  /** Total memory in bytes. */
  memory: number;
  node: string;
  cpu: string;
  platform: string;
  /** One-minute load average at the start and the end of the run (the machine may be shared). */
  load_avg: number[];
}

export interface Goal {
  id: string;
  goal: string;
  field: string;
  target: string;
  value: number | null;
  /** null when the figure could not be measured in this run. */
  met: boolean | null;
  /** The same figure on the native PostgreSQL of the run (search and ingest goals, with --database-url). */
  native?: { value: number | null; met: boolean | null };
}

/** Ingest and search measured again on a native PostgreSQL + pgvector (--database-url). */
export interface NativeResult {
  server: string;
  search?: SearchResult;
  ingest?: IngestResult;
}

export interface BenchResult {
  date: string;
  mode: 'quick' | 'full';
  duration_s: number;
  /** Sections taken from an earlier run (`--only`), and that run's date. */
  carried_over?: string[];
  carried_from?: string;
  machine: Machine;
  chunking: ChunkingResult;
  search: SearchResult;
  ingest: IngestResult;
  lambda: LambdaResult;
  native?: NativeResult;
  goals: Goal[];
}

/** What every run must report, with what each figure means (the docs table is built from this). */
export const FIGURES: Record<string, string> = {
  'chunking.mb_per_s': 'Our chunker (chunkText, 800/400 tokens), MB of text per second',
  'chunking.langchain_mb_per_s':
    "LangChain's RecursiveCharacterTextSplitter measuring length in cl100k tokens (js-tiktoken), 800/400",
  'chunking.ratio_vs_langchain': 'mb_per_s / langchain_mb_per_s',
  'search.chunks': 'Chunks in the searched store',
  'search.p50_ms': 'Median latency of POST /v1/vector_stores/{id}/search with query_embedding, top 10',
  'search.p95_ms': '95th percentile of the same',
  'search.sql_p50_ms':
    'Median of the bare SQL top-10 (one statement, same index and ef_search) on the same data',
  'search.overhead_ratio': 'p50_ms / sql_p50_ms: what the API adds over the physical floor',
  'search.core_p50_ms': 'Median of searchChunks called directly (no HTTP): the search core, one statement',
  'search.breakdown.http_p50_ms':
    'Median of an answer without a search (POST of the same body to a path the app lacks: HTTP, auth, router, 404)',
  'search.breakdown.bare_http_p50_ms':
    'The same POST to a bare node:http server in a process of its own (no framework, auth or logging; a 404): the least any HTTP API adds',
  'search.breakdown.overhead_ratio_bare_http':
    '(bare_http_p50_ms + sql_p50_ms) / sql_p50_ms: overhead_ratio of an API that added nothing but a bare HTTP round trip',
  'search.breakdown.core_prepared_p50_ms':
    'The search core with named prepared statements (DATABASE_PREPARE=true: one round trip, a cached plan)',
  'search.breakdown.sql_prepared_p50_ms': 'The bare SQL top-10 with a named prepared statement',
  'search.breakdown.db_planning_p50_ms':
    "The database's planning time for the core's statement (EXPLAIN ANALYZE)",
  'search.breakdown.db_execution_p50_ms': "The database's execution time for the same (EXPLAIN ANALYZE)",
  'search.breakdown.statements_per_search':
    'Statements one API search sends to a native server, counted on the wire (Parse or Query messages)',
  'search.breakdown.round_trips_per_search':
    'Round trips of one API search to a native server, counted on the wire (the client writes, each answered before the next)',
  'search.breakdown.overhead_ratio_prepared':
    'overhead_ratio with named prepared statements on both sides (API with the core prepared over the bare SQL prepared)',
  'search.exact_threshold':
    'Candidate sets at most this large are ranked exactly on this engine (from search.crossover)',
  'search.recall_at_10': 'Share of the exact top 10 (brute force) that the API returns, unfiltered',
  'search.recall_at_10_filtered_10pct': 'The same with an attribute filter keeping ~10 % of the chunks',
  'search.recall_at_10_filtered_1pct': 'The same with an attribute filter keeping ~1 % of the chunks',
  'search.cpu_ms_per_search':
    'CPU of the bench process per API search, one client (server and client; on PGlite the engine too)',
  'search.searches_per_s_1': 'API searches per second, 1 client',
  'search.searches_per_s_4': 'API searches per second, 4 concurrent clients',
  'search.searches_per_s_16': 'API searches per second, 16 concurrent clients',
  'search.quality.hybrid.top1':
    'Held-out queries on license texts (lexical embedding): share whose license is the first file, hybrid',
  'search.quality.hybrid.mrr_at_5': 'The same, mean reciprocal rank of the license among the first 5 files',
  'search.quality.keyword.top1': 'The same, keyword (BM25) search, top-1',
  'search.quality.vector.top1': 'The same, vector search, top-1',
  'ingest.chunks_per_s': 'Chunks stored per second, upload to batch completed, through the API',
  'ingest.reingest.cache_hit_rate':
    'The same files attached to a second store: share of chunks not sent to the provider again',
  'ingest.embedding_requests': 'Requests the fake OpenAI endpoint received',
  'ingest.embedding_requests_min':
    'Fewest requests OpenAI limits allow for the same chunks (2,048 inputs, 300k tokens)',
  'ingest.embedding_requests_over_min': 'embedding_requests / embedding_requests_min',
  'lambda.api_bundle_bytes': 'Bytes shipped for the api function: its bundle directory, without source maps',
  'lambda.api_cold_start_ms':
    'Fresh node process: start, import the bundle, answer one API Gateway v2 GET /health',
  'machine.cores': 'CPU cores',
  'machine.memory': 'Memory, bytes',
};
/** Figures that may be null when they cannot be measured; the run then says why in lambda.note. */
const NULLABLE = new Set(['lambda.api_bundle_bytes', 'lambda.api_cold_start_ms']);

export const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

/** Names every required field that is absent or not a finite number (null allowed where noted). */
/** Counted on the wire to a native server: null for the embedded engine (its single backend has one client). */
const WIRE_ONLY = new Set([
  'search.breakdown.statements_per_search',
  'search.breakdown.round_trips_per_search',
]);

export function missingFields(result: unknown): string[] {
  const missing = Object.keys(FIGURES).filter((f) => {
    const v = get(result, f);
    if (v === null && NULLABLE.has(f)) return typeof get(result, 'lambda.note') !== 'string';
    if (v === null && WIRE_ONLY.has(f)) return false; // counted on native servers only
    return typeof v !== 'number' || !Number.isFinite(v);
  });
  if (typeof get(result, 'machine.node') !== 'string') missing.push('machine.node');
  if (typeof get(result, 'date') !== 'string' || Number.isNaN(Date.parse(String(get(result, 'date')))))
    missing.push('date');
  return missing;
}

/** The goals the project holds itself to, judged on this run. */
export function evaluateGoals(r: Omit<BenchResult, 'goals'>): Goal[] {
  // r.native holds { search, ingest }: a native figure is read at the same path.
  const goal = (
    id: string,
    goal: string,
    field: string,
    target: string,
    ok: (v: number) => boolean,
  ): Goal => {
    const value = get(r, field) as number | null;
    const onNative = /^(search|ingest)\./.test(field) && r.native ? get(r.native, field) : undefined;
    return {
      id,
      goal,
      field,
      target,
      value,
      met: value === null ? null : ok(value),
      ...(typeof onNative === 'number' ? { native: { value: onNative, met: ok(onNative) } } : {}),
    };
  };
  return [
    goal('recall', 'Recall@10, unfiltered', 'search.recall_at_10', '>= 0.95', (v) => v >= 0.95),
    goal(
      'recall_10pct',
      'Recall@10, 10 % filter',
      'search.recall_at_10_filtered_10pct',
      '>= 0.95',
      (v) => v >= 0.95,
    ),
    goal(
      'recall_1pct',
      'Recall@10, 1 % filter',
      'search.recall_at_10_filtered_1pct',
      '>= 0.95',
      (v) => v >= 0.95,
    ),
    goal('overhead', 'API over bare SQL, p50', 'search.overhead_ratio', '<= 1.5', (v) => v <= 1.5),
    goal('chunking', 'Chunking speed over LangChain', 'chunking.ratio_vs_langchain', '>= 3', (v) => v >= 3),
    goal(
      'requests',
      'Embedding requests over the minimum',
      'ingest.embedding_requests_over_min',
      '= 1',
      (v) => v <= 1,
    ),
    goal(
      'cache',
      'Embedding cache hits on a re-ingest',
      'ingest.reingest.cache_hit_rate',
      '= 1',
      (v) => v >= 1,
    ),
    goal('bundle', 'api bundle', 'lambda.api_bundle_bytes', '<= 2 MB', (v) => v <= 2_000_000),
    goal('cold_start', 'api cold start', 'lambda.api_cold_start_ms', '<= 300 ms', (v) => v <= 300),
  ];
}

export const CHARTS = { recall: 'recall-latency.svg', size: 'latency-size.svg' } as const;
