import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BEGIN,
  type BenchResult,
  CHARTS,
  END,
  evaluateGoals,
  FIGURES,
  missingFields,
  writeReport,
} from '../bench/report.ts';

const run = (
  overrides: { ingest?: Partial<BenchResult['ingest']>; lambda?: Partial<BenchResult['lambda']> } = {},
) => {
  const workload = {
    files: 169,
    bytes: 1_229_550,
    chunks: 894,
    seconds: 35.9,
    upload_s: 2.1,
    chunks_per_s: 24.9,
    mb_per_s: 0.034,
    embedding_requests: 169,
    embedding_requests_min: 3,
    embedding_requests_over_min: 56.33,
    embedded_tokens: 626_877,
    requests: [{ inputs: 169, tokens: 120_000 }],
    floor_s: 9.1,
    floor: { chunk_s: 0.3, embed_s: 0.15, write_s: 8.65 },
    over_floor: 3.95,
    reingest: { seconds: 4.2, embedding_requests: 0, cache_hit_rate: 1 },
  };
  const partial: Omit<BenchResult, 'goals'> = {
    date: '2026-11-27T14:12:00.000Z',
    mode: 'quick',
    duration_s: 248,
    machine: {
      cores: 2,
      memory: 25_276_026_880,
      node: 'v24.21.0',
      cpu: 'AMD EPYC',
      platform: 'linux-x64',
      load_avg: [3.4, 4.1],
    },
    chunking: {
      mb_per_s: 5.46,
      langchain_mb_per_s: 0.32,
      ratio_vs_langchain: 17.12,
      langchain_token_splitter_mb_per_s: 0.84,
      langchain_gpt_tokenizer_mb_per_s: 4.48,
      corpus_bytes: 1_229_550,
      corpus_docs: 169,
      corpus_sha256: 'ab'.repeat(32),
      corpus_source: 'READMEs',
      chunk_tokens: 800,
      overlap_tokens: 400,
      runs: 3,
      chunks: 894,
      langchain_chunks: 769,
      langchain_max_chunk_tokens: 799,
    },
    search: {
      dims: 256,
      chunks: 20_000,
      table_chunks: 20_000,
      documents: 1968,
      queries: 100,
      ef_search: 100,
      exact_threshold: 10_000,
      exact_match_threshold: 10_000,
      load_s: 8.8,
      index_build_s: 30.4,
      p50_ms: 16.86,
      p95_ms: 26.1,
      core_p50_ms: 12.82,
      sql_p50_ms: 2.1,
      sql_p95_ms: 4.05,
      sql_scan: 'hnsw',
      sql_recall_at_10: 0.988,
      sql_exact_p50_ms: 38.81,
      overhead_ratio: 8.03,
      recall_at_10: 0.988,
      recall_at_10_filtered_10pct: 1,
      recall_at_10_filtered_1pct: 0.94,
      cpu_ms_per_search: 3.1,
      searches_per_s_1: 80,
      searches_per_s_4: 150,
      searches_per_s_16: 160,
      breakdown: {
        api_p50_ms: 16.86,
        http_p50_ms: 1.2,
        bare_http_p50_ms: 0.6,
        core_p50_ms: 12.82,
        core_prepared_p50_ms: 11.5,
        sql_p50_ms: 2.1,
        sql_prepared_p50_ms: 1.8,
        db_planning_p50_ms: 0.7,
        db_execution_p50_ms: 0.9,
        overhead_ratio_prepared: 8.63,
        http_share_of_floor: 0.57,
        overhead_ratio_bare_http: 1.29,
        statements_per_search: 1,
        round_trips_per_search: 1,
      },
      crossover: {
        points: [
          { matches: 200, exact_p50_ms: 1.1, hnsw_p50_ms: 2.5, hnsw_recall_at_10: 0.97 },
          { matches: 2000, exact_p50_ms: 3.4, hnsw_p50_ms: 2.9, hnsw_recall_at_10: 0.96 },
        ],
        crossover_matches: 1500,
        recall_floor: 0.95,
        threshold: 1500,
        store_threshold: 6000,
      },
      quality: {
        source: 'test',
        documents: 100,
        queries: 40,
        hybrid: { top1: 0.9, mrr_at_5: 0.93 },
        keyword: { top1: 0.85, mrr_at_5: 0.9 },
        vector: { top1: 0.6, mrr_at_5: 0.7 },
      },
      cases: [
        {
          name: 'unfiltered',
          share: 1,
          scan: 'hnsw',
          p50_ms: 16.86,
          p95_ms: 26.1,
          core_p50_ms: 12.82,
          recall_at_10: 0.988,
          hnsw_p50_ms: 13.36,
          hnsw_recall_at_10: 0.988,
        },
      ],
      ef_curve: [16, 100, 400].map((ef, i) => ({
        ef_search: ef,
        p50_ms: 12 + i,
        recall_at_10: 0.94 + i * 0.03,
        sql_p50_ms: 1.3 + i,
        sql_recall_at_10: 0.91 + i * 0.04,
      })),
      size_curve: [1000, 10_000, 20_000].map((chunks, i) => ({
        chunks,
        scan: i < 2 ? ('exact' as const) : ('hnsw' as const),
        p50_ms: 12 + 10 * i,
        p95_ms: 20 + 10 * i,
        sql_p50_ms: 4 + i,
        sql_exact_p50_ms: 4 + 17 * i,
        recall_at_10: 1,
      })),
      data: {
        generator: 'test',
        topics: 67,
        cosine_unrelated: 0.135,
        cosine_same_topic: 0.446,
        cosine_same_document: 0.771,
        cosine_query_top1: 0.655,
      },
    },
    ingest: {
      ...workload,
      fake_latency_ms: 150,
      embedding_concurrency: 4,
      ingest_concurrency: 2,
      dims: 256,
      single_file: { ...workload, files: 1, embedding_requests: 3, embedding_requests_over_min: 1 },
      ...overrides.ingest,
    },
    lambda: {
      api_bundle_bytes: 1_500_000,
      api_entry_bytes: 789_235,
      api_initial_bytes: 790_100,
      api_cold_start_ms: 548.7,
      api_cold_start_min_ms: 401.2,
      node_boot_ms: 113.1,
      api_import_ms: 288.7,
      runs: 5,
      bundle: 'dist/api/index.mjs',
      note: 'median of 5 fresh node processes answering GET /health',
      ...overrides.lambda,
    },
  };
  return { ...partial, goals: evaluateGoals(partial) };
};

const get = (o: unknown, path: string) =>
  path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

function paths() {
  const dir = mkdtempSync(join(tmpdir(), 'vsdb-bench-report-'));
  return {
    json: join(dir, 'results/latest.json'),
    charts: join(dir, 'results'),
    docs: join(dir, 'docs/BENCHMARKS.md'),
  };
}

describe('bench report writer', () => {
  it('writes every required figure to the JSON, the docs table and both charts', () => {
    const p = paths();
    writeReport(run(), p);
    const json = JSON.parse(readFileSync(p.json, 'utf8'));
    const required = [
      'chunking.mb_per_s',
      'chunking.langchain_mb_per_s',
      'chunking.ratio_vs_langchain',
      'search.chunks',
      'search.p50_ms',
      'search.p95_ms',
      'search.sql_p50_ms',
      'search.overhead_ratio',
      'search.core_p50_ms',
      'search.breakdown.http_p50_ms',
      'search.breakdown.bare_http_p50_ms',
      'search.breakdown.overhead_ratio_bare_http',
      'search.breakdown.core_prepared_p50_ms',
      'search.breakdown.sql_prepared_p50_ms',
      'search.breakdown.db_planning_p50_ms',
      'search.breakdown.db_execution_p50_ms',
      'search.breakdown.statements_per_search',
      'search.breakdown.round_trips_per_search',
      'search.breakdown.overhead_ratio_prepared',
      'search.exact_threshold',
      'search.recall_at_10',
      'search.recall_at_10_filtered_10pct',
      'search.recall_at_10_filtered_1pct',
      'search.cpu_ms_per_search',
      'search.searches_per_s_1',
      'search.searches_per_s_4',
      'search.searches_per_s_16',
      'search.quality.hybrid.top1',
      'search.quality.hybrid.mrr_at_5',
      'search.quality.keyword.top1',
      'search.quality.vector.top1',
      'ingest.chunks_per_s',
      'ingest.reingest.cache_hit_rate',
      'ingest.embedding_requests',
      'ingest.embedding_requests_min',
      'ingest.embedding_requests_over_min',
      'lambda.api_bundle_bytes',
      'lambda.api_cold_start_ms',
      'machine.cores',
      'machine.memory',
    ];
    expect(Object.keys(FIGURES).sort()).toEqual([...required].sort());
    for (const field of required) expect(typeof get(json, field), field).toBe('number');
    expect(json.machine.node).toBe('v24.21.0');
    expect(Date.parse(json.date)).toBeGreaterThan(0);

    const docs = readFileSync(p.docs, 'utf8');
    for (const field of required) expect(docs).toContain(`\`${field}\``);
    for (const goal of json.goals) expect(docs).toContain(`| ${goal.goal} |`);
    for (const name of Object.values(CHARTS)) {
      expect(docs).toContain(`](../results/${name})`);
      const svg = readFileSync(join(p.charts, name), 'utf8');
      expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      expect(svg.match(/<polyline /g)?.length).toBeGreaterThanOrEqual(2);
      expect(svg).not.toContain('NaN');
    }
  });

  it('judges each goal and explains the misses', () => {
    const r = run();
    const met = Object.fromEntries(r.goals.map((g) => [g.id, g.met]));
    expect(met).toEqual({
      recall: true,
      recall_10pct: true,
      recall_1pct: false,
      overhead: false,
      chunking: true,
      requests: false,
      cache: true,
      bundle: true,
      cold_start: false,
    });
    const p = paths();
    writeReport(r, p);
    const docs = readFileSync(p.docs, 'utf8');
    expect(docs).toContain('**API over bare SQL, p50** (8.03, target <= 1.5)');
    expect(docs).toContain('169 files made 169 requests');
  });

  it('judges the search and ingest goals on the native engine too, and shows both engines', () => {
    const base = run();
    const search = { ...base.search, overhead_ratio: 1.4, recall_at_10_filtered_1pct: 0.99 };
    const native = { server: '127.0.0.1:5432', search, ingest: base.ingest };
    const r = { ...base, native, goals: evaluateGoals({ ...base, native }) };
    const byId = Object.fromEntries(r.goals.map((g) => [g.id, g]));
    expect(byId.overhead?.native).toEqual({ value: 1.4, met: true });
    expect(byId.recall_1pct?.native).toEqual({ value: 0.99, met: true });
    expect(byId.requests?.native?.met).toBe(false);
    expect(byId.bundle?.native).toBeUndefined();
    const p = paths();
    writeReport(r, p);
    const docs = readFileSync(p.docs, 'utf8');
    expect(docs).toContain('| Native (127.0.0.1:5432) |');
    expect(docs).toContain(
      '| API over bare SQL, p50 | `search.overhead_ratio` | 8.03 | **no** | 1.4 | yes | <= 1.5 |',
    );
    expect(docs).toContain('native (127.0.0.1:5432): crossover at 1,500 matching chunks');
  });

  it('replaces only its own block of the docs page', () => {
    const p = paths();
    writeReport(run(), p);
    const page = readFileSync(p.docs, 'utf8').replace('# Benchmarks', '# Benchmarks\n\nHand-written method.');
    writeFileSync(p.docs, `${page}\n## Afterword\n`);
    writeReport(run({ ingest: { chunks_per_s: 99.5 } }), p);
    const again = readFileSync(p.docs, 'utf8');
    expect(again).toContain('Hand-written method.');
    expect(again).toContain('## Afterword');
    expect(again.split(BEGIN).length).toBe(2);
    expect(again.split(END).length).toBe(2);
    expect(again).toContain('| `ingest.chunks_per_s` | 99.5 |');

    // A marker written by an older version of the writer is still found.
    writeFileSync(
      p.docs,
      '# Benchmarks\n\n<!-- bench:begin (older words) -->\nstale\n<!-- bench:end -->\nkept\n',
    );
    writeReport(run(), p);
    const migrated = readFileSync(p.docs, 'utf8');
    expect(migrated).not.toContain('stale');
    expect(migrated).toContain(BEGIN);
    expect(migrated.trimEnd().endsWith('kept')).toBe(true);
  });

  it('accepts unmeasured Lambda figures only with a reason', () => {
    const unmeasured = {
      api_bundle_bytes: null,
      api_cold_start_ms: null,
      api_cold_start_min_ms: null,
      api_entry_bytes: null,
      api_initial_bytes: null,
    };
    const withNote = run({ lambda: { ...unmeasured, note: 'not measured: no build' } });
    expect(missingFields(withNote)).toEqual([]);
    expect(withNote.goals.find((g) => g.id === 'cold_start')?.met).toBeNull();
    const p = paths();
    writeReport(withNote, p);
    expect(readFileSync(p.docs, 'utf8')).toContain('not measured: no build');

    const silent = run({ lambda: { ...unmeasured, note: undefined as unknown as string } });
    expect(missingFields(silent)).toEqual(['lambda.api_bundle_bytes', 'lambda.api_cold_start_ms']);
  });

  it('refuses a result that lacks a figure, and keeps it aside instead of the results', () => {
    const r = run();
    const broken = { ...r, search: { ...r.search, overhead_ratio: undefined as unknown as number } };
    expect(missingFields(broken)).toEqual(['search.overhead_ratio']);
    const p = paths();
    expect(() => writeReport(broken, p)).toThrow(/search\.overhead_ratio/);
    expect(existsSync(p.json)).toBe(false);
    expect(JSON.parse(readFileSync(`${p.json}.tmp`, 'utf8')).search.chunks).toBe(r.search.chunks);
  });

  it('takes the wire counts as not measured on the embedded engine', () => {
    const r = run();
    const breakdown = { ...r.search.breakdown, statements_per_search: null, round_trips_per_search: null };
    expect(missingFields({ ...r, search: { ...r.search, breakdown } })).toEqual([]);
  });
});
