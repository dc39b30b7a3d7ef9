// `npm run bench [-- --quick] [--only=chunking,ingest,search,lambda] [--report-only] [--out=DIR]
//   [--database-url=URL] [--native-only]`: every figure of issue 8. With a native PostgreSQL + pgvector (--database-url, or
// BENCH_DATABASE_URL; `bash scripts/postgres.sh` prints one), ingest and search run on it too, in the same
// run, and are reported beside PGlite's.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { testConfig } from '../test/config.ts';
import { benchChunking } from './chunking.ts';
import { loadTextCorpus, ROOT } from './corpus.ts';
import { migratedDatabase, startBenchApp, useDatabaseServer } from './db.ts';
import { FIGURES, get } from './figures.ts';
import { benchIngest } from './ingest.ts';
import { benchLambda, LAMBDA_UNMEASURED } from './lambda.ts';
import { type BenchResult, evaluateGoals, type NativeResult, writeReport } from './report.ts';
import { benchSearch } from './search.ts';
import { progress, round } from './stats.ts';

const SECTIONS = ['chunking', 'ingest', 'search', 'lambda'] as const;
type Section = (typeof SECTIONS)[number];

/** Sizes of each mode: quick fits in ~5 minutes on 2 cores and still sends the main store through HNSW. */
const MODES = {
  quick: {
    chunkingRuns: 3,
    search: {
      chunks: 20_000,
      sizes: [1_000, 3_000, 10_000],
      queries: 100,
      efValues: [16, 32, 64, 100, 200, 400],
    },
    lambdaRuns: 5,
  },
  full: {
    chunkingRuns: 7,
    search: {
      chunks: 100_000,
      sizes: [1_000, 3_000, 10_000, 30_000],
      queries: 300,
      efValues: [12, 16, 24, 32, 48, 64, 100, 150, 200, 300, 400, 600, 800],
    },
    lambdaRuns: 11,
  },
};
/** text-embedding-3-small at 256 dimensions (OpenAI's `dimensions`): real, and affordable in WASM Postgres. */
const DIMS = 256;

const DEFAULT_PATHS = {
  json: join(ROOT, 'bench/results/latest.json'),
  charts: join(ROOT, 'bench/results'),
  docs: join(ROOT, 'docs/BENCHMARKS.md'),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // --out=DIR writes latest.json, the charts and BENCHMARKS.md there instead (a trial run, CI artifacts).
  const out = args.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  const PATHS = out
    ? { json: resolve(out, 'latest.json'), charts: resolve(out), docs: resolve(out, 'BENCHMARKS.md') }
    : DEFAULT_PATHS;
  if (args.includes('--report-only')) {
    // Re-renders the docs and charts from the last results (after editing report.ts): measures nothing.
    const last = JSON.parse(readFileSync(PATHS.json, 'utf8')) as BenchResult;
    writeReport({ ...last, goals: evaluateGoals(last) }, PATHS);
    progress(`rewrote ${PATHS.docs} and the charts from ${PATHS.json}`);
    return;
  }
  const mode = args.includes('--quick') ? 'quick' : 'full';
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',') as Section[] | undefined;
  const unknown = (only ?? []).filter((s) => !SECTIONS.includes(s));
  if (unknown.length)
    throw new Error(`unknown section ${unknown.join(', ')}; sections: ${SECTIONS.join(', ')}`);
  const want = (s: Section) => !only || only.includes(s);
  const databaseUrl =
    args.find((a) => a.startsWith('--database-url='))?.slice('--database-url='.length) ??
    process.env.BENCH_DATABASE_URL;
  const previous: Partial<BenchResult> =
    (only || args.includes('--native-only')) && existsSync(PATHS.json)
      ? JSON.parse(readFileSync(PATHS.json, 'utf8'))
      : {};
  const size = MODES[mode];
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  progress(`${mode} run of ${only?.join(', ') ?? 'every section'}`);

  // --native-only: ingest and search on the native server alone (PGlite's figures carried over), e.g. the
  // full mode's 100,000 chunks, whose HNSW build takes too long in WASM.
  const nativeOnly = args.includes('--native-only');
  if (nativeOnly && !databaseUrl) throw new Error('--native-only needs --database-url');
  const onPglite = (s: Section) => want(s) && !nativeOnly;
  const corpus = want('chunking') || want('ingest') ? loadTextCorpus() : null;
  const chunking = want('chunking') ? await benchChunking(corpus!, size.chunkingRuns) : previous.chunking;
  const ingest = onPglite('ingest') ? await benchIngest(corpus!, DIMS) : previous.ingest;
  let search = previous.search;
  if (onPglite('search')) {
    const app = await startBenchApp({ EMBEDDING_DIMENSIONS: String(DIMS), EMBEDDING_PROVIDER: 'local' });
    try {
      search = await benchSearch(app, { ...size.search, seed: 8 });
    } finally {
      await app.close();
    }
  }
  // Sections not measured again keep the previous run's native figures.
  let native: NativeResult | undefined = previous.native;
  if (databaseUrl && (want('ingest') || want('search'))) {
    useDatabaseServer(databaseUrl);
    try {
      const server = new URL(databaseUrl);
      native = { ...previous.native, server: `${server.hostname}:${server.port || 5432}` };
      progress(`the same ingest and search on native PostgreSQL at ${native.server}`);
      if (want('ingest')) native.ingest = await benchIngest(corpus!, DIMS);
      if (want('search')) {
        const app = await startBenchApp({ EMBEDDING_DIMENSIONS: String(DIMS), EMBEDDING_PROVIDER: 'local' });
        try {
          native.search = await benchSearch(app, { ...size.search, seed: 8 });
        } finally {
          await app.close();
        }
      }
    } finally {
      useDatabaseServer(undefined);
    }
  }
  let lambda = previous.lambda;
  if (want('lambda')) {
    // The handler reaches a migrated embedded database over the wire, as it reaches RDS Proxy on AWS.
    const db = await migratedDatabase(testConfig({ EMBEDDING_DIMENSIONS: String(DIMS) }));
    try {
      lambda = await benchLambda({
        runs: size.lambdaRuns,
        env: {
          DATABASE_URL: db.url!,
          EMBEDDING_DIMENSIONS: String(DIMS),
          API_KEYS: 'sk-bench-cold-start',
          LOG_LEVEL: 'silent',
        },
      });
    } catch (err) {
      // A broken bundle is a finding, not a reason to lose the other figures.
      const why = (err as Error).message.split('\n').slice(0, 3).join(' ');
      lambda = { ...LAMBDA_UNMEASURED, note: `not measured: ${why}` };
    } finally {
      await db.close();
    }
  }
  if (!chunking || !ingest || !search || !lambda)
    throw new Error('--only needs a previous bench/results/latest.json');

  const cpu = cpus();
  const partial = {
    date: new Date().toISOString(),
    mode,
    duration_s: round((performance.now() - started) / 1000, 1),
    ...(only || nativeOnly
      ? {
          carried_over: SECTIONS.filter(
            (s) => !want(s) || (nativeOnly && (s === 'ingest' || s === 'search')),
          ),
          carried_from: previous.date,
        }
      : {}),
    machine: {
      cores: cpu.length,
      memory: totalmem(),
      node: process.version,
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      platform: `${process.platform}-${process.arch}`,
      load_avg: [round(loadAtStart, 2), round(loadavg()[0]!, 2)],
    },
    chunking,
    search,
    ingest,
    lambda,
  } satisfies Omit<BenchResult, 'goals'>;
  const withNative = { ...partial, ...(native ? { native } : {}) };
  const result: BenchResult = { ...withNative, goals: evaluateGoals(withNative) };
  writeReport(result, PATHS);
  if (native) printEngines(result, native);
  progress(`done in ${result.duration_s} s; wrote ${PATHS.json} and ${PATHS.docs}`);
  for (const g of result.goals) {
    const onNative = g.native ? `; native ${g.native.value} ${g.native.met ? 'met' : 'MISS'}` : '';
    progress(
      `${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'} ${g.goal}: ${g.value} (${g.target})${onNative}`,
    );
  }
}

/** The figures of both engines side by side (latest.json keeps them under `native`). */
function printEngines(r: BenchResult, native: NativeResult): void {
  const keys = Object.keys(FIGURES).filter((k) => /^(search|ingest)\./.test(k));
  const nativeResult = { search: native.search, ingest: native.ingest };
  const cell = (v: unknown) => (typeof v === 'number' ? String(round(v, 3)) : 'n/a');
  progress(`figure | PGlite | native (${native.server})`);
  for (const k of keys) progress(`${k} | ${cell(get(r, k))} | ${cell(get(nativeResult, k))}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
