// `node bench/publish.ts [--lexemes=100000] [--database-url=URL] [--out=FILE]`: how long a read waits while
// a file holding many distinct lexemes (the 10 MB CSV line of issue #14 holds ~100,000) is published, and
// while its term statistics then join the store's (migration 0009's backlog). A probe reads back to back on
// the same database during the publish and during the settling; on the embedded engine a read waits for the
// transaction in front of it. Runs on PGlite (in this process) and, given a URL, on a native server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '@vsdb/core/db/client';
import { toSql } from 'pgvector';
import * as write from '../packages/core/src/ingest/chunk-write.ts';
import { testConfig } from '../test/config.ts';
import { random, seedStore, unitVector } from '../test/search-fixtures.ts';
import { migratedDatabase, useDatabaseServer } from './db.ts';
import { arg, median, progress, quantile, round } from './stats.ts';

const lexemes = Number(arg('lexemes') ?? 100_000);
const WORDS_PER_CHUNK = 500;
const DIMS = 256;

/** Reads back to back until stopped; the longest wait and the median. */
function probe(db: Database) {
  const waits: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      await db.sql`SELECT chunk_count FROM vector_stores WHERE id = 'vs_pub'`;
      waits.push(performance.now() - t);
      await new Promise((r) => setImmediate(r));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { reads: waits.length, p50_ms: round(median(waits), 2), max_ms: round(Math.max(...waits), 1) };
  };
}

async function run(engine: string) {
  const config = testConfig({ EMBEDDING_DIMENSIONS: String(DIMS) });
  const db = await migratedDatabase(config);
  const job = { vectorStoreId: 'vs_pub', fileId: 'file_pub' };
  await seedStore(db.sql, { project: 'proj_pub', store: job.vectorStoreId, file: job.fileId });
  await db.sql`UPDATE vector_store_files SET status = 'in_progress', lease_owner = 'bench' WHERE file_id = ${job.fileId}`;
  const rand = random(3);
  const chunks = Math.ceil(lexemes / WORDS_PER_CHUNK);
  const rows: write.ChunkRow[] = Array.from({ length: chunks }, (_, i) => ({
    chunk_index: i,
    content: Array.from({ length: WORDS_PER_CHUNK }, (_, j) => `w${i * WORDS_PER_CHUNK + j}z`).join(' '),
    tokens: WORDS_PER_CHUNK * 2,
    page: null,
    char_start: 0,
    char_end: 1,
    embedding: toSql(unitVector(rand, DIMS)) as string,
  }));
  /** Writes the rows as a draft and publishes it (the job claimed again first). */
  const publish = async () => {
    await db.sql`UPDATE vector_store_files SET status = 'in_progress', lease_owner = 'bench' WHERE file_id = ${job.fileId}`;
    const draft = (await write.openDraft(db.sql, job, 'bench'))!;
    for (const slice of write.slicesOf(rows)) {
      for (let at = 0; at < slice.length; )
        at += (await write.writeSlice(db.sql, job, 'bench', draft, slice.slice(at)))!;
    }
    const stop = probe(db);
    const t = performance.now();
    await write.publishDraft(db.sql, job, 'bench', draft, { bytes: 1, tokens: 1 });
    return { ms: round(performance.now() - t, 1), reads: await stop() };
  };
  // The backlog, a transaction at a time (none before migration 0009: the publish merged every term).
  const settleAll = async () => {
    const settle = (write as { settleTerms?: typeof write.settleTerms }).settleTerms;
    const steps: number[] = [];
    const stop = probe(db);
    const t = performance.now();
    if (settle) {
      for (;;) {
        const s = performance.now();
        if (!(await settle(db.sql, { limit: 1 }))) break;
        steps.push(performance.now() - s);
      }
    }
    return {
      ms: round(performance.now() - t, 1),
      transactions: steps.length,
      transaction_p50_ms: steps.length ? round(median(steps), 1) : null,
      transaction_max_ms: steps.length ? round(quantile(steps, 1), 1) : null,
      reads: await stop(),
    };
  };
  const first = await publish();
  const settled = await settleAll();
  const [terms] = await db.sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM chunk_terms WHERE vector_store_id = ${job.vectorStoreId} AND chunks > 0`;
  // Ingested again: the publish replaces the file's chunks, whose terms leave the statistics.
  const again = await publish();
  await settleAll();
  // Detached: the file's chunks go, by cascade, in the request's transaction.
  const stop = probe(db);
  const t = performance.now();
  await db.sql`DELETE FROM vector_store_files WHERE vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId}`;
  const detach = { ms: round(performance.now() - t, 1), reads: await stop() };
  await db.close();
  const r = {
    engine,
    chunks,
    lexemes: terms!.n,
    publish: first,
    settle: settled,
    republish: again,
    detach,
  };
  progress(JSON.stringify(r));
  return r;
}

const results = [await run('pglite')];
const url = arg('database-url');
if (url) {
  useDatabaseServer(url);
  results.push(await run('native'));
}
const out = arg('out') ?? join(import.meta.dirname, 'results/publish.json');
writeFileSync(out, `${JSON.stringify({ when: new Date().toISOString(), results }, null, 1)}\n`);
