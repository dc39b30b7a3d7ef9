// `node bench/hnsw-insert.ts [--rows=3000] [--dims=1536] [--database-url=URL] [--out=FILE]`: what one row
// costs to enter the HNSW graph, as halfvec and as vector, on PGlite (in this process) and, given a URL, on
// a native server. The reason for migration 0008: on the embedded engine a read waits behind the row
// being inserted, and WebAssembly converts half floats in software.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import postgres from 'postgres';
import { arg, median, progress, quantile, round } from './stats.ts';
import { generateCorpus, vectorText } from './vectors.ts';

type Query = (text: string, params?: unknown[]) => Promise<unknown>;
const rows = Number(arg('rows') ?? 3000);
const dims = Number(arg('dims') ?? 1536);
const measured = 200;
const { docs } = generateCorpus({ dims, chunks: rows + measured, queries: 0, seed: 8 });
const vectors = docs.flatMap((d) => d.chunks).map(vectorText);

/** Fills a fresh table of `rows` rows one INSERT at a time, then times `measured` more. */
async function run(engine: string, type: 'halfvec' | 'vector', query: Query) {
  await query('DROP TABLE IF EXISTS bench_hnsw');
  await query(`CREATE TABLE bench_hnsw (id serial PRIMARY KEY, e ${type}(${dims}))`);
  await query(
    `CREATE INDEX ON bench_hnsw USING hnsw (e ${type}_cosine_ops) WITH (m = 16, ef_construction = 64)`,
  );
  const started = performance.now();
  for (const v of vectors.slice(0, rows)) await query('INSERT INTO bench_hnsw (e) VALUES ($1)', [v]);
  const fillMs = (performance.now() - started) / rows;
  const ms: number[] = [];
  for (const v of vectors.slice(rows, rows + measured)) {
    const t = performance.now();
    await query('INSERT INTO bench_hnsw (e) VALUES ($1)', [v]);
    ms.push(performance.now() - t);
  }
  await query('DROP TABLE bench_hnsw');
  const r = {
    engine,
    type,
    dims,
    rows,
    fill_ms_per_row: round(fillMs, 2),
    p50_ms: round(median(ms), 2),
    p99_ms: round(quantile(ms, 0.99), 2),
  };
  progress(JSON.stringify(r));
  return r;
}

const results = [];
const lite = await PGlite.create({ extensions: { vector } });
await lite.exec('CREATE EXTENSION IF NOT EXISTS vector');
for (const type of ['halfvec', 'vector'] as const) {
  results.push(await run('pglite', type, (text, params) => lite.query(text, params)));
}
await lite.close();
const url = arg('database-url');
if (url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql`CREATE EXTENSION IF NOT EXISTS vector`;
  for (const type of ['halfvec', 'vector'] as const) {
    results.push(await run('native', type, (text, params) => sql.unsafe(text, params as never[])));
  }
  await sql.end();
}
const out = arg('out') ?? join(import.meta.dirname, 'results/hnsw-insert.json');
writeFileSync(out, `${JSON.stringify({ when: new Date().toISOString(), results }, null, 1)}\n`);
