// The generated block of docs/BENCHMARKS.md: goals, every figure, and the detail tables.
import { type BenchResult, CHARTS, FIGURES, type Goal, get, type IngestResult } from './figures.ts';
import { searchBreakdown } from './markdown-search.ts';
import { num, table } from './md.ts';

const met = (m: boolean | null) => (m === null ? 'not measured' : m ? 'yes' : '**no**');

/** Why a goal was missed, from this run's own figures. */
function missedBecause(g: Goal, r: BenchResult): string {
  const s = r.search;
  const i = r.ingest;
  switch (g.id) {
    case 'overhead':
      return (
        `the bare index scan takes ${num(s.sql_p50_ms)} ms; the search core, one statement with the plan, the ` +
        `scan settings, the scan and the page's content, takes ${num(s.core_p50_ms)} ms; HTTP, JSON and ` +
        `validation bring it to ${num(s.p50_ms)} ms. A bare node:http server answers the same POST in ` +
        `${num(s.breakdown.bare_http_p50_ms)} ms, so an API adding nothing but HTTP would stand at ` +
        `${num(s.breakdown.overhead_ratio_bare_http, 2)}${r.native?.search ? ` (native: ${num(r.native.search.breakdown.overhead_ratio_bare_http, 2)})` : ''}`
      );
    case 'requests':
      return `${num(i.files)} files made ${num(i.embedding_requests)} requests where ${num(i.embedding_requests_min)} could carry all ${num(i.chunks)} chunks: requests are shared only by the jobs in flight within the coalescer's wait (100 ms after the last input, 2 s at most), and the fewest requests need first-fit packing of all of them at once; one large file needs ${num(i.single_file.embedding_requests)} for a minimum of ${num(i.single_file.embedding_requests_min)}`;
    case 'cache':
      return `${num(i.reingest.embedding_requests)} requests on the re-ingest`;
    case 'bundle':
      return `a cold start loads ${num(r.lambda.api_initial_bytes)} bytes of it; the rest is imported on first use`;
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
      ['Goal', 'Figure', 'PGlite', 'Met', ...(r.native ? ['Native', 'Met'] : []), 'Target'],
      r.goals.map((g) => [
        g.goal,
        `\`${g.field}\``,
        num(g.value),
        met(g.met),
        ...(r.native ? [g.native ? num(g.native.value) : '', g.native ? met(g.native.met) : ''] : []),
        g.target,
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
      ['Field', 'PGlite', ...(r.native ? [`Native (${r.native.server})`] : []), 'Meaning'],
      Object.entries(FIGURES).map(([f, what]) => [
        `\`${f}\``,
        num(get(r, f) as number | null),
        ...(r.native ? [/^(search|ingest)\./.test(f) ? num(get(r.native, f) as number | null) : ''] : []),
        what,
      ]),
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
    ...searchBreakdown(r),
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
      : `The api function ships ${num(r.lambda.api_bundle_bytes)} bytes (its directory under dist/, no source maps). ` +
          `A cold start loads ${num(r.lambda.api_initial_bytes)} bytes of it: the entry \`${r.lambda.bundle}\` ` +
          `(${num(r.lambda.api_entry_bytes)} bytes) and its static imports; the rest is imported on first use. ` +
          (r.lambda.api_cold_start_ms === null
            ? `Cold start: ${r.lambda.note}.`
            : `Cold start ${num(r.lambda.api_cold_start_ms)} ms (median; fastest ${num(r.lambda.api_cold_start_min_ms)} ms): node's own start ${num(r.lambda.node_boot_ms)} ms, the import ` +
              `${num(r.lambda.api_import_ms)} ms, the rest is building the app and its first database round trips; ${r.lambda.note}.`),
  );
  return lines.join('\n');
}
