// Where a search's time goes, from the client's wait down to the database's own work.
import { spawn } from 'node:child_process';
import { openDatabase } from '@vsdb/core/db/client';
import { explainSearch } from '@vsdb/core/search/search';
import type { BenchApp } from './db.ts';
import { interleave, ms } from './interleave.ts';
import { apiSearch, type ChunkKeys, coreSearch, type Probe, sqlSearch, withSqlScan } from './probes.ts';
import { countRoundTrips } from './roundtrips.ts';
import { median, round } from './stats.ts';

/** An answer the app gives without searching: HTTP both ways, auth and the router (a 404 for a path it lacks). */
async function httpFloor(url: string, store: string, query: Float32Array): Promise<Probe> {
  const body = JSON.stringify({ query_embedding: Array.from(query), max_num_results: 10 });
  const started = performance.now();
  const res = await fetch(`${url}/v1/vector_stores/${store}/no_such_route`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
    body,
  });
  await res.arrayBuffer();
  const ms = performance.now() - started;
  if (res.status !== 404) throw new Error(`the HTTP floor answered ${res.status}`);
  return { ms, ids: [] };
}

/**
 * The least any HTTP API could add: a bare node:http server in a process of its own (as the app is) that
 * reads the same request and answers a 404, with no framework, auth or logging.
 */
async function bareHttpServer(): Promise<{ url: string; close: () => void }> {
  const code = `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => {
    r.writeHead(404, { 'content-type': 'application/json' }); r.end('{"error":{"message":"no such route"}}'); }); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (c) => reject(new Error(`the bare HTTP server exited ${c}`)));
  });
  return { url: `http://127.0.0.1:${port}`, close: () => child.kill() };
}

/**
 * The unfiltered search, every query through each layer in turn: the API; an answer without a search
 * (`http`); the search core; the core with named prepared statements (`DATABASE_PREPARE=true`, one
 * round trip and a cached plan; what the embedded engine's client always does); the bare statement,
 * unnamed and named; and, from EXPLAIN ANALYZE of the core's statement, the database's planning and
 * execution time.
 */
export async function measureBreakdown(
  app: BenchApp,
  store: string,
  queries: Float32Array[],
  keys: ChunkKeys,
) {
  const { sql, kind } = app.db;
  const efSearch = app.config.HNSW_EF_SEARCH;
  const named =
    kind === 'external'
      ? await openDatabase({ ...app.config, DATABASE_URL: app.db.url!, DATABASE_PREPARE: true })
      : null;
  const namedSql = named?.sql ?? sql;
  const hnsw = { scan: 'hnsw' as const, efSearch };
  const bare = await bareHttpServer();
  try {
    const runs = await interleave(queries, {
      api: (q) => apiSearch(app.url, store, q, keys),
      http: (q) => httpFloor(app.url, store, q),
      bare_http: (q) => httpFloor(bare.url, store, q),
      core: (q) => coreSearch(sql, store, q, { efSearch }),
      core_prepared: (q) => coreSearch(namedSql, store, q, { efSearch }),
      sql: (q) => withSqlScan(sql, hnsw, (tx) => sqlSearch(tx, store, q)),
      sql_prepared: (q) => withSqlScan(namedSql, hnsw, (tx) => sqlSearch(tx, store, q)),
    });
    const plans: { planningMs: number; executionMs: number }[] = [];
    for (const q of queries.slice(0, 30)) {
      plans.push(
        await explainSearch(sql, {
          projectId: 'proj_default',
          vectorStoreIds: [store],
          embedding: Array.from(q),
          text: null,
          mode: 'vector',
          limit: 10,
          efSearch,
        }),
      );
    }
    const out = {
      api_p50_ms: ms(runs.api),
      http_p50_ms: ms(runs.http),
      bare_http_p50_ms: ms(runs.bare_http),
      core_p50_ms: ms(runs.core),
      core_prepared_p50_ms: ms(runs.core_prepared),
      sql_p50_ms: ms(runs.sql),
      sql_prepared_p50_ms: ms(runs.sql_prepared),
      db_planning_p50_ms: round(median(plans.map((p) => p.planningMs)), 2),
      db_execution_p50_ms: round(median(plans.map((p) => p.executionMs)), 2),
    };
    const wire = await countRoundTrips(app, store, queries, keys);
    return {
      ...out,
      // Per API search, counted on the wire (native servers only): statements and client writes.
      statements_per_search: wire?.statements_per_search ?? null,
      round_trips_per_search: wire?.round_trips_per_search ?? null,
      // What the floor-relative figures would be with named statements on this connection.
      overhead_ratio_prepared: round(
        (out.api_p50_ms - out.core_p50_ms + out.core_prepared_p50_ms) / out.sql_prepared_p50_ms,
        2,
      ),
      http_share_of_floor: round(out.http_p50_ms / out.sql_p50_ms, 2),
      // The ratio of an API that added nothing but a bare HTTP round trip to the bare statement.
      overhead_ratio_bare_http: round((out.bare_http_p50_ms + out.sql_p50_ms) / out.sql_p50_ms, 2),
    };
  } finally {
    bare.close();
    await named?.close();
  }
}
