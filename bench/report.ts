// Turns one run's figures into bench/results/latest.json, two SVG charts, and the table in docs/BENCHMARKS.md.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { ChunkingResult } from './chunking.ts';
import type { benchIngest } from './ingest.ts';
import type { LambdaResult } from './lambda.ts';
import type { benchSearch } from './search.ts';
import { lineChart } from './svg.ts';

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
  'search.recall_at_10': 'Share of the exact top 10 (brute force) that the API returns, unfiltered',
  'search.recall_at_10_filtered_10pct': 'The same with an attribute filter keeping ~10 % of the chunks',
  'search.recall_at_10_filtered_1pct': 'The same with an attribute filter keeping ~1 % of the chunks',
  'ingest.chunks_per_s': 'Chunks stored per second, upload to batch completed, through the API',
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

const get = (o: unknown, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );

/** Names every required field that is absent or not a finite number (null allowed where noted). */
export function missingFields(result: unknown): string[] {
  const missing = Object.keys(FIGURES).filter((f) => {
    const v = get(result, f);
    if (v === null && NULLABLE.has(f)) return typeof get(result, 'lambda.note') !== 'string';
    return typeof v !== 'number' || !Number.isFinite(v);
  });
  if (typeof get(result, 'machine.node') !== 'string') missing.push('machine.node');
  if (typeof get(result, 'date') !== 'string' || Number.isNaN(Date.parse(String(get(result, 'date')))))
    missing.push('date');
  return missing;
}

/** The goals the project holds itself to, judged on this run. */
export function evaluateGoals(r: Omit<BenchResult, 'goals'>): Goal[] {
  const goal = (
    id: string,
    goal: string,
    field: string,
    target: string,
    ok: (v: number) => boolean,
  ): Goal => {
    const value = get(r, field) as number | null;
    return { id, goal, field, target, value, met: value === null ? null : ok(value) };
  };
  return [
    goal('recall', 'Recall@10, unfiltered', 'search.recall_at_10', '>= 0.95', (v) => v >= 0.95),
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
    goal('bundle', 'api bundle', 'lambda.api_bundle_bytes', '<= 2 MB', (v) => v <= 2_000_000),
    goal('cold_start', 'api cold start', 'lambda.api_cold_start_ms', '<= 300 ms', (v) => v <= 300),
  ];
}

export const CHARTS = { recall: 'recall-latency.svg', size: 'latency-size.svg' } as const;

/** The two charts: recall against latency over ef_search, and latency against store size. */
export function renderCharts(r: BenchResult): Record<string, string> {
  const s = r.search;
  const recallChart = lineChart({
    title: `Recall@10 against latency, ${s.chunks.toLocaleString('en')} chunks, ${s.dims} dims (labels: ef_search)`,
    xLabel: 'recall@10 against exact search',
    yLabel: 'p50 latency (ms)',
    series: [
      {
        name: 'API (HTTP)',
        color: '#1f77b4',
        points: s.ef_curve.map((e) => ({ x: e.recall_at_10, y: e.p50_ms, label: String(e.ef_search) })),
      },
      {
        name: 'bare SQL',
        color: '#d62728',
        points: s.ef_curve.map((e) => ({
          x: e.sql_recall_at_10,
          y: e.sql_p50_ms,
          label: String(e.ef_search),
        })),
      },
    ],
    xMarks: [{ at: 0.95, label: 'goal 0.95' }],
  });
  const sizeChart = lineChart({
    title: 'Search latency against store size (unfiltered top 10)',
    xLabel: 'chunks in the store (log scale)',
    yLabel: 'p50 latency (ms)',
    xLog: true,
    series: [
      {
        name: 'API (HTTP)',
        color: '#1f77b4',
        points: s.size_curve.map((p) => ({ x: p.chunks, y: p.p50_ms, label: p.scan ?? '' })),
      },
      {
        name: 'bare SQL, exact scan',
        color: '#7f7f7f',
        points: s.size_curve.map((p) => ({ x: p.chunks, y: p.sql_exact_p50_ms })),
      },
      {
        name: "bare SQL, the API's scan",
        color: '#d62728',
        points: s.size_curve.map((p) => ({ x: p.chunks, y: p.sql_p50_ms })),
      },
    ],
    xMarks: [{ at: s.exact_threshold, label: 'exact | HNSW' }],
  });
  return { [CHARTS.recall]: recallChart, [CHARTS.size]: sizeChart };
}

const num = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined
    ? 'n/a'
    : Number.isInteger(v)
      ? v.toLocaleString('en')
      : String(Number(v.toFixed(digits)));
const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** Why a goal was missed, from this run's own figures. */
function missedBecause(g: Goal, r: BenchResult): string {
  const s = r.search;
  const i = r.ingest;
  switch (g.id) {
    case 'overhead':
      return (
        `the bare index scan takes ${num(s.sql_p50_ms)} ms; the search core takes ${num(s.core_p50_ms)} ms, of which ` +
        `${num(s.plan_p50_ms)} ms is its planning count (up to 50,000 of the store's chunks, on every search), the rest ` +
        `its transaction, scan settings, the scan and hydration; HTTP, validation, the store check and the ` +
        `last_active_at update bring it to ${num(s.p50_ms)} ms`
      );
    case 'requests':
      return `each file is embedded on its own (${num(i.files)} files: ${num(i.embedding_requests)} requests), while ${num(i.embedding_requests_min)} requests could carry all ${num(i.chunks)} chunks; one large file needs ${num(i.single_file.embedding_requests)} for a minimum of ${num(i.single_file.embedding_requests_min)}`;
    case 'cold_start':
      return `node itself starts in ${num(r.lambda.node_boot_ms)} ms and importing the bundle takes ${num(r.lambda.api_import_ms)} ms`;
    case 'recall':
    case 'recall_1pct':
      return 'see the per-case table: scan chosen and forced-HNSW recall';
    default:
      return 'see the detail tables';
  }
}

/** The generated part of docs/BENCHMARKS.md. */
export function renderMarkdown(r: BenchResult, chartsFromDocs: string): string {
  const s = r.search;
  const i = r.ingest;
  const c = r.chunking;
  const gib = (r.machine.memory / 2 ** 30).toFixed(1);
  const lines: string[] = [];
  lines.push(
    `_Measured ${r.date.replace('T', ' ').slice(0, 16)} UTC by \`npm run bench${r.mode === 'quick' ? ' -- --quick' : ''}\` ` +
      `on ${r.machine.cores} cores (${r.machine.cpu}), ${gib} GiB, Node ${r.machine.node}; the run took ${Math.round(r.duration_s)} s; ` +
      `load average ${r.machine.load_avg.join(' at the start, ')} at the end._`,
    ...(r.carried_over?.length
      ? [
          '',
          `_Sections ${r.carried_over.join(', ')} are from the run of ${r.carried_from}; the others were measured again._`,
        ]
      : []),
    '',
    '### Goals',
    '',
    table(
      ['Goal', 'Figure', 'Measured', 'Target', 'Met'],
      r.goals.map((g) => [
        g.goal,
        `\`${g.field}\``,
        num(g.value),
        g.target,
        g.met === null ? 'not measured' : g.met ? 'yes' : '**no**',
      ]),
    ),
    '',
  );
  const missed = r.goals.filter((g) => g.met === false);
  if (missed.length) {
    lines.push('Missed in this run:', '');
    for (const g of missed)
      lines.push(`- **${g.goal}** (${num(g.value)}, target ${g.target}): ${missedBecause(g, r)}.`);
    lines.push('');
  }
  for (const g of r.goals.filter((x) => x.met === null))
    lines.push(`- **${g.goal}** was not measured: ${r.lambda.note}.`, '');
  lines.push(
    '### Every figure',
    '',
    table(
      ['Field', 'Value', 'Meaning'],
      Object.entries(FIGURES).map(([f, what]) => [`\`${f}\``, num(get(r, f) as number | null), what]),
    ),
    '',
    '### Chunking peers',
    '',
    `Same ${num(c.corpus_bytes)} bytes (${c.corpus_docs} documents), 800-token chunks with 400 tokens of overlap, median of ${c.runs} passes.`,
    '',
    table(
      ['Splitter', 'MB/s', 'Chunks'],
      [
        ['ours: `chunkText`', num(c.mb_per_s, 2), num(c.chunks)],
        [
          'LangChain `RecursiveCharacterTextSplitter`, js-tiktoken length',
          num(c.langchain_mb_per_s, 2),
          num(c.langchain_chunks),
        ],
        [
          'the same splitter with gpt-tokenizer (our tokenizer) as length',
          num(c.langchain_gpt_tokenizer_mb_per_s, 2),
          '',
        ],
        [
          'LangChain `TokenTextSplitter` (cuts anywhere, no boundaries)',
          num(c.langchain_token_splitter_mb_per_s, 2),
          '',
        ],
      ],
    ),
    '',
    '### Search detail',
    '',
    `${num(s.chunks)} chunks in ${num(s.documents)} documents (${s.data.topics} topics), ${s.dims} dimensions, ${num(s.table_chunks)} chunks in the table; ` +
      `${s.queries} queries; HNSW_EF_SEARCH ${s.ef_search}; loaded in ${s.load_s} s, HNSW index built in ${s.index_build_s} s. ` +
      `Data: unrelated chunks ${s.data.cosine_unrelated} cosine, same topic ${s.data.cosine_same_topic}, same document ${s.data.cosine_same_document}, query to its nearest chunk ${s.data.cosine_query_top1}.`,
    '',
    table(
      [
        'Case',
        'Share kept',
        'Scan chosen',
        'API p50 ms',
        'API p95 ms',
        'core p50 ms',
        'Recall@10',
        'forced HNSW p50 ms',
        'forced HNSW recall@10',
      ],
      s.cases.map((x) => [
        x.name,
        num(x.share, 4),
        x.scan ?? '',
        num(x.p50_ms),
        num(x.p95_ms),
        num(x.core_p50_ms),
        num(x.recall_at_10, 4),
        num(x.hnsw_p50_ms),
        num(x.hnsw_recall_at_10, 4),
      ]),
    ),
    '',
    `Bare SQL on the same store: ${num(s.sql_p50_ms)} ms p50 / ${num(s.sql_p95_ms)} ms p95 through the ${s.sql_scan} scan (recall ${num(s.sql_recall_at_10, 4)}); an exact scan of the same store takes ${num(s.sql_exact_p50_ms)} ms.`,
    '',
    `![Recall against latency](${chartsFromDocs}/${CHARTS.recall})`,
    '',
    table(
      ['ef_search', 'API p50 ms', 'API recall@10', 'SQL p50 ms', 'SQL recall@10'],
      s.ef_curve.map((e) => [
        e.ef_search,
        num(e.p50_ms),
        num(e.recall_at_10, 4),
        num(e.sql_p50_ms),
        num(e.sql_recall_at_10, 4),
      ]),
    ),
    '',
    `![Latency against store size](${chartsFromDocs}/${CHARTS.size})`,
    '',
    table(
      [
        'Chunks',
        'API scan',
        'API p50 ms',
        'API p95 ms',
        'SQL p50 ms, same scan',
        'SQL p50 ms, exact',
        'Recall@10',
      ],
      s.size_curve.map((p) => [
        num(p.chunks),
        p.scan ?? '',
        num(p.p50_ms),
        num(p.p95_ms),
        num(p.sql_p50_ms),
        num(p.sql_exact_p50_ms),
        num(p.recall_at_10, 4),
      ]),
    ),
    '',
    '### Ingest detail',
    '',
    `Fake OpenAI endpoint adding ${i.fake_latency_ms} ms to every request; EMBEDDING_CONCURRENCY ${i.embedding_concurrency}, INGEST_CONCURRENCY ${i.ingest_concurrency}, ${i.dims} dimensions.`,
    '',
    table(
      [
        'Workload',
        'Files',
        'MB',
        'Chunks',
        'Seconds',
        'Chunks/s',
        'Requests',
        'Minimum',
        'Over minimum',
        'Floor s (chunk + embed + write)',
        'Over floor',
      ],
      [
        ['the corpus, one file per document (file batch)', i],
        ['the corpus as one file', i.single_file],
      ].map(([name, w]) => {
        const x = w as IngestResult['single_file'];
        return [
          name as string,
          x.files,
          num(x.bytes / 1e6, 2),
          num(x.chunks),
          num(x.seconds, 1),
          num(x.chunks_per_s, 1),
          x.embedding_requests,
          x.embedding_requests_min,
          num(x.embedding_requests_over_min, 2),
          `${num(x.floor_s, 2)} (${num(x.floor.chunk_s, 2)} + ${num(x.floor.embed_s, 2)} + ${num(x.floor.write_s, 2)})`,
          num(x.over_floor, 2),
        ];
      }),
    ),
    '',
    '### Lambda',
    '',
    r.lambda.api_bundle_bytes === null
      ? `Not measured: ${r.lambda.note}.`
      : `The api function ships ${num(r.lambda.api_bundle_bytes)} bytes (its dist/ directory, no source maps); its entry ` +
          `\`${r.lambda.bundle}\` is ${num(r.lambda.api_entry_bytes)} bytes and the rest are chunks imported only when needed. ` +
          (r.lambda.api_cold_start_ms === null
            ? `Cold start: ${r.lambda.note}.`
            : `Cold start ${num(r.lambda.api_cold_start_ms)} ms (median; fastest ${num(r.lambda.api_cold_start_min_ms)} ms): node's own start ${num(r.lambda.node_boot_ms)} ms, the import ` +
              `${num(r.lambda.api_import_ms)} ms, the rest is building the app and its first database round trips; ${r.lambda.note}.`),
  );
  return lines.join('\n');
}

export const BEGIN =
  '<!-- bench:begin (generated by npm run bench; edit bench/report.ts, not this block) -->';
export const END = '<!-- bench:end -->';

export interface ReportPaths {
  json: string;
  charts: string;
  docs: string;
}

/** Writes the JSON, the charts, and the generated block of the docs page (the rest of the page is kept). */
export function writeReport(result: BenchResult, paths: ReportPaths): void {
  const missing = missingFields(result);
  if (missing.length) throw new Error(`the bench result lacks ${missing.join(', ')}`);
  for (const p of [paths.json, join(paths.charts, 'x'), paths.docs])
    mkdirSync(dirname(p), { recursive: true });
  writeFileSync(paths.json, `${JSON.stringify(result, null, 2)}\n`);
  for (const [name, svg] of Object.entries(renderCharts(result)))
    writeFileSync(join(paths.charts, name), svg);
  const block = `${BEGIN}\n${renderMarkdown(result, relative(dirname(paths.docs), paths.charts).replaceAll('\\', '/'))}\n${END}`;
  const page = existsSync(paths.docs)
    ? readFileSync(paths.docs, 'utf8')
    : `# Benchmarks\n\n${BEGIN}\n${END}\n`;
  const start = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  const next =
    start >= 0 && end > start
      ? page.slice(0, start) + block + page.slice(end + END.length)
      : `${page.trimEnd()}\n\n${block}\n`;
  writeFileSync(paths.docs, next);
}
