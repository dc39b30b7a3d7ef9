import { toSql } from 'pgvector';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../test/helpers.ts';
import { random, seedStore, unitVector } from '../../../../test/search-fixtures.ts';
import type { Database, Sql } from '../db/client.ts';
import { closeLocalEmbedder, LocalEmbeddingProvider } from '../embedding/local.ts';
import { keywordSearch } from '../search/search.ts';
import { vectorStoreFileChunks } from '../vector-store-files/chunks.ts';
import {
  BACKLOG_TERMS,
  type ChunkRow,
  completeJob,
  type Draft,
  discardDrafts,
  openDraft,
  publishDraft,
  SLICE_ROWS,
  settleTerms,
  slicesOf,
  writeSlice,
} from './chunk-write.ts';
import { embedChunks } from './embed.ts';

// Chunks written as a draft in slices (migration 0007): hidden from readers and from the statistics of
// 0004 until one publish, which also replaces the file's earlier chunks; failed drafts leave nothing. A
// published draft's terms count from the backlog until settled into chunk_terms (migration 0009).
let db: Database;
const rand = random(7);
const D = 64;
const P = 'proj_w';
const job = { vectorStoreId: 'vs_w1', fileId: 'file_w' };
const OWNER = 'worker-a';

beforeAll(async () => {
  db = await freshDatabase();
  await seedStore(db.sql, { project: P, store: job.vectorStoreId, file: job.fileId });
  await seedStore(db.sql, { project: P, store: 'vs_w2', file: 'file_other' });
});
afterAll(() => db?.close());

const rows = (word: string, n: number): ChunkRow[] =>
  Array.from({ length: n }, (_, i) => ({
    chunk_index: i,
    content: `${word} section ${i} of the ${i % 2 ? 'odd' : 'even'} ledger`,
    tokens: 7,
    page: null,
    char_start: 0,
    char_end: 10,
    embedding: toSql(unitVector(rand, D)) as string,
  }));

/** Writes every row of a slice (each call writes what fits in its time). */
async function writeAll(draft: Draft, slice: ChunkRow[]) {
  for (let at = 0; at < slice.length; ) {
    const written = await writeSlice(db.sql, job, OWNER, draft, slice.slice(at));
    if (written === null) return null;
    expect(written).toBeGreaterThan(0);
    at += written;
  }
  return slice.length;
}

/** Hands the file to `owner` as a running job. */
const claim = (owner = OWNER) =>
  db.sql`UPDATE vector_store_files SET status = 'in_progress', lease_owner = ${owner},
    lease_expires_at = now() + interval '1 hour' WHERE file_id = ${job.fileId}`;

async function kept() {
  const { sql } = db;
  const stores =
    await sql`SELECT id, chunk_count::int AS n, token_count::int AS tokens FROM vector_stores ORDER BY id`;
  const terms = await sql`
    SELECT vector_store_id, lexeme, sum(chunks)::int AS chunks FROM (
      SELECT vector_store_id, lexeme, chunks FROM chunk_terms
      UNION ALL
      SELECT p.vector_store_id, p.lexeme, b.sign * p.chunks FROM term_backlog b
        JOIN generation_terms p USING (vector_store_id, file_id, generation)
      WHERE b.sign <> 0 AND p.lexeme > b.done_through) x
    GROUP BY 1, 2 HAVING sum(chunks) <> 0 ORDER BY 1, 2`;
  return { stores, terms };
}

/** What is left of generations: drafts, their term counts, the backlog and the kept term sets. */
async function tidy() {
  const { sql } = db;
  return {
    drafts: (await sql`SELECT count(*)::int AS n FROM chunk_drafts`)[0]!.n,
    terms: (await sql`SELECT count(*)::int AS n FROM generation_terms`)[0]!.n,
    backlog: (await sql`SELECT count(*)::int AS n FROM term_backlog`)[0]!.n,
    sets: (await sql`SELECT count(*)::int AS n FROM term_sets`)[0]!.n,
  };
}
const TIDY = { drafts: 0, terms: 0, backlog: 0, sets: 0 };

/** The same figures counted from the published chunks only. */
async function counted() {
  const { sql } = db;
  const published = sql`NOT EXISTS (SELECT 1 FROM chunk_drafts d WHERE (d.vector_store_id, d.file_id, d.generation)
    = (c.vector_store_id, c.file_id, c.generation))`;
  const stores = await sql`
    SELECT s.id, count(c.id)::int AS n, coalesce(sum(tsvector_tokens(c.tsv)), 0)::int AS tokens
    FROM vector_stores s LEFT JOIN chunks c ON c.vector_store_id = s.id AND ${published} GROUP BY s.id ORDER BY s.id`;
  const terms = await sql`
    SELECT c.vector_store_id, u.lexeme, count(*)::int AS chunks FROM chunks c, unnest(c.tsv) u
    WHERE ${published} GROUP BY 1, 2 ORDER BY 1, 2`;
  return { stores, terms };
}

const found = async (word: string) =>
  (await keywordSearch(db.sql, { projectId: P, vectorStoreIds: [job.vectorStoreId], text: word, limit: 50 }))
    .length;
const listed = async () =>
  (await vectorStoreFileChunks(db.sql, P, job.vectorStoreId, job.fileId)).data.map((c) => c.text);
const allChunks = async () =>
  (await db.sql`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${job.fileId}`)[0]!.n as number;

describe('chunk drafts', () => {
  it('slices rows by count and by bytes', () => {
    const many = rows('alpha', SLICE_ROWS * 2 + 1);
    expect(slicesOf(many).map((s) => s.length)).toEqual([SLICE_ROWS, SLICE_ROWS, 1]);
    const big = [0, 1, 2].map((i) => ({
      ...rows('big', 1)[0]!,
      chunk_index: i,
      content: 'x'.repeat(2_000_000),
    }));
    expect(slicesOf(big).map((s) => s.length)).toEqual([1, 1, 1]);
  });

  it('stay hidden and uncounted while written, and appear at once when published', async () => {
    await claim();
    const draft = (await openDraft(db.sql, job, OWNER))!;
    const first = rows('alpha', 40);
    expect(await writeAll(draft, first.slice(0, 20))).toBe(20);
    expect(await writeAll(draft, first.slice(20))).toBe(20);
    expect(await allChunks()).toBe(40);
    expect(await found('alpha')).toBe(0);
    expect(await kept()).toEqual(await counted());
    expect((await kept()).stores.map((s) => s.n)).toEqual([0, 0]);

    expect(await publishDraft(db.sql, job, OWNER, draft, { bytes: 1, tokens: 1 })).toBe(true);
    expect(await found('alpha')).toBe(40);
    expect(await listed()).toHaveLength(40);
    expect(await kept()).toEqual(await counted());
    expect((await kept()).stores.map((s) => s.n)).toEqual([40, 0]);
    expect(await db.sql`SELECT * FROM chunk_drafts`).toEqual([]);
    // Its terms count from the backlog until settled; then nothing of the draft is left.
    expect(await db.sql`SELECT sign FROM term_backlog`).toEqual([{ sign: 1 }]);
    expect(await settleTerms(db.sql)).toBe(1);
    expect(await tidy()).toEqual(TIDY);
    expect(await kept()).toEqual(await counted());
  });

  it('replace the earlier chunks in the publish; until then the earlier ones are what readers see', async () => {
    await claim();
    // A crashed attempt's draft is left behind; the next attempt's publish removes it.
    const crashed = (await openDraft(db.sql, job, OWNER))!;
    await writeAll(crashed, rows('gamma', 5));
    const draft = (await openDraft(db.sql, job, OWNER))!;
    for (const slice of slicesOf(rows('beta', 30))) await writeAll(draft, slice);
    expect([await found('alpha'), await found('beta'), await found('gamma')]).toEqual([40, 0, 0]);
    expect(await kept()).toEqual(await counted());
    // The attributes changed while the draft was written: the publish carries them over.
    await db.sql`UPDATE vector_store_files SET attributes = '{"k": 1}' WHERE file_id = ${job.fileId}`;
    expect(await publishDraft(db.sql, job, OWNER, draft, { bytes: 1, tokens: 1 })).toBe(true);
    expect([await found('alpha'), await found('beta'), await found('gamma')]).toEqual([0, 30, 0]);
    expect(await allChunks()).toBe(30);
    expect(await db.sql`SELECT DISTINCT attributes FROM chunks WHERE file_id = ${job.fileId}`).toEqual([
      { attributes: { k: 1 } },
    ]);
    expect(await kept()).toEqual(await counted());
    // The crashed attempt's terms are in the backlog to be dropped, ours to be added; settling leaves nothing.
    expect(await db.sql`SELECT generation::text, sign FROM term_backlog ORDER BY generation`).toEqual([
      { generation: crashed.generation, sign: 0 },
      { generation: draft.generation, sign: 1 },
    ]);
    await settleTerms(db.sql);
    expect(await tidy()).toEqual(TIDY);
    expect(await kept()).toEqual(await counted());
  });

  it('write and publish nothing once the job is taken away, and leave nothing when discarded', async () => {
    await claim();
    const draft = (await openDraft(db.sql, job, OWNER))!;
    await writeAll(draft, rows('delta', 10));
    await claim('worker-b'); // the lease expired and another worker claimed the job
    expect(await writeSlice(db.sql, job, OWNER, draft, rows('delta', 10))).toBeNull();
    expect(await publishDraft(db.sql, job, OWNER, draft, { bytes: 1, tokens: 1 })).toBe(false);
    expect(await openDraft(db.sql, job, OWNER)).toBeNull();
    await discardDrafts(db.sql, job, draft.generation);
    expect(await allChunks()).toBe(30);
    expect([await found('beta'), await found('delta')]).toEqual([30, 0]);
    expect(await kept()).toEqual(await counted());
    // completeJob does all of it, and stops when its signal is aborted.
    const stopped = new AbortController();
    stopped.abort();
    expect(
      await completeJob(
        db.sql,
        job,
        'worker-b',
        rows('eps', 5),
        { bytes: 1, tokens: 1 },
        undefined,
        stopped.signal,
      ),
    ).toBe(false);
    expect(await completeJob(db.sql, job, 'worker-b', rows('zeta', 600), { bytes: 1, tokens: 1 })).toBe(true);
    expect([await found('beta'), await found('eps'), await found('zeta')]).toEqual([0, 0, 50]);
    expect(await allChunks()).toBe(600);
    expect(await kept()).toEqual(await counted());
    expect(await tidy()).toEqual(TIDY);
  });

  it('keep the statistics exact when the file is detached while a draft is written', async () => {
    await claim();
    const draft = (await openDraft(db.sql, job, OWNER))!;
    await writeAll(draft, rows('eta', 25));
    await db.sql`DELETE FROM vector_store_files WHERE vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId}`;
    expect(await allChunks()).toBe(0);
    expect(await kept()).toEqual(await counted());
    expect((await kept()).stores.map((s) => s.n)).toEqual([0, 0]);
    expect(await writeSlice(db.sql, job, OWNER, draft, rows('eta', 5))).toBeNull();
    // Attached again: the next ingestion sweeps the orphaned draft and publishes its own.
    await db.sql`INSERT INTO vector_store_files (vector_store_id, file_id, project_id, status, chunking_strategy)
      VALUES (${job.vectorStoreId}, ${job.fileId}, ${P}, 'completed', '{"type":"auto"}')`;
    await claim();
    expect(await completeJob(db.sql, job, OWNER, rows('theta', 3), { bytes: 1, tokens: 1 })).toBe(true);
    expect(await tidy()).toEqual(TIDY);
    expect([await found('eta'), await found('theta')]).toEqual([0, 3]);
    expect(await kept()).toEqual(await counted());
  });
});

describe('the term backlog', () => {
  /** 70 chunks of 100 words found nowhere else: 7,000 lexemes, a large generation (3.5 batches of the backlog). */
  const wordy = (tag: string, chunks = 70) =>
    rows(tag, chunks).map((r, i) => ({
      ...r,
      content: Array.from({ length: 100 }, (_, j) => `${tag}${i}x${j}`).join(' '),
    }));
  const scores = async (query: string) =>
    (
      await keywordSearch(db.sql, {
        projectId: P,
        vectorStoreIds: [job.vectorStoreId],
        text: query,
        limit: 20,
      })
    ).map((h) => [h.chunkId, h.bm25]);
  const backlog = async () =>
    db.sql`SELECT generation::text, sign, done_through FROM term_backlog ORDER BY seq`;
  const detach = () =>
    db.sql`DELETE FROM vector_store_files WHERE vector_store_id = ${job.vectorStoreId} AND file_id = ${job.fileId}`;
  const attach = () =>
    db.sql`INSERT INTO vector_store_files (vector_store_id, file_id, project_id, status, chunking_strategy)
      VALUES (${job.vectorStoreId}, ${job.fileId}, ${P}, 'completed', '{"type":"auto"}')`;
  const storeTerms = async () =>
    (
      await db.sql`SELECT count(*)::int AS n FROM chunk_terms WHERE vector_store_id = ${job.vectorStoreId} AND chunks <> 0`
    )[0]!.n as number;

  /** Writes and publishes `content` as the job's chunks, leaving its terms to the backlog. */
  async function publish(content: ChunkRow[]) {
    await claim();
    const draft = (await openDraft(db.sql, job, OWNER))!;
    for (const slice of slicesOf(content)) await writeAll(draft, slice);
    expect(await publishDraft(db.sql, job, OWNER, draft, { bytes: 1, tokens: 1 })).toBe(true);
    return draft;
  }

  it("counts a large file's terms from its publish on, added and later taken away a batch a transaction", async () => {
    await settleTerms(db.sql);
    const draft = await publish(wordy('q'));
    await settleTerms(db.sql, { only: { ...job, fileId: 'none' } }); // another file's: nothing to do
    expect(await backlog()).toEqual([{ generation: draft.generation, sign: 1, done_through: '' }]);
    const before = await scores('q3x5 q10x7 q69x99');
    expect(before).toHaveLength(3); // one chunk for each rare word
    expect(await kept()).toEqual(await counted());

    expect(await settleTerms(db.sql, { limit: 1 })).toBe(1);
    expect((await backlog())[0]!.done_through).not.toBe('');
    expect(await kept()).toEqual(await counted());
    expect(await scores('q3x5 q10x7 q69x99')).toEqual(before);

    expect(await settleTerms(db.sql)).toBe(3); // 2,000 + 2,000 + 1,000
    expect(await storeTerms()).toBe(7000);
    // A large generation keeps its term counts while its chunks exist.
    expect(await tidy()).toEqual({ ...TIDY, terms: 7000, sets: 1 });
    expect(await kept()).toEqual(await counted());
    expect(await scores('q3x5 q10x7 q69x99')).toEqual(before);

    // Detached: the chunks go at once, their terms leave the statistics through the backlog.
    await detach();
    expect(await backlog()).toEqual([{ generation: draft.generation, sign: -1, done_through: '' }]);
    expect(await kept()).toEqual(await counted());
    expect(await found('q3x5')).toBe(0);
    expect(await settleTerms(db.sql, { limit: 2 })).toBe(2);
    expect(await kept()).toEqual(await counted());
    expect(await settleTerms(db.sql)).toBe(2);
    expect(await tidy()).toEqual(TIDY);
    expect(await storeTerms()).toBe(0);
    await attach();
  });

  it('stays exact when the file is re-ingested and detached before its terms are settled', async () => {
    const r = await publish(wordy('r'));
    const s = await publish(wordy('s')); // replaces r's chunks while r's terms are still to be added
    const small = await publish(rows('tiny', 3)); // and a small one replaces s's
    expect([await found('r3x5'), await found('s3x5'), await found('tiny')]).toEqual([0, 0, 3]);
    expect((await backlog()).map((b) => [b.generation, b.sign])).toEqual([
      [r.generation, 1],
      [r.generation, -1],
      [s.generation, 1],
      [s.generation, -1],
      [small.generation, 1],
    ]);
    expect(await kept()).toEqual(await counted());
    await detach(); // the small one's terms leave at once
    expect(await kept()).toEqual(await counted());
    expect((await kept()).stores.map((x) => x.n)).toEqual([0, 0]);
    // Worked in any order across generations, each generation's entries in turn.
    expect(await settleTerms(db.sql, { only: { ...job, generation: s.generation } })).toBe(8);
    expect(await kept()).toEqual(await counted());
    await settleTerms(db.sql);
    expect(await tidy()).toEqual(TIDY);
    expect(await kept()).toEqual(await counted());
    expect(await storeTerms()).toBe(0);
    await attach();
  });

  it('is shared by settlers working at once, and drops the terms of a deleted store', async () => {
    const t = await publish(wordy('t'));
    // A second store with a large file and a small one, published and then deleted before they are settled.
    const other = { vectorStoreId: 'vs_w3', fileId: 'file_w3' };
    await seedStore(db.sql, { project: P, store: other.vectorStoreId, file: other.fileId });
    for (const content of [wordy('u', 30), wordy('v', 1)]) {
      await db.sql`UPDATE vector_store_files SET status = 'in_progress', lease_owner = ${OWNER}
        WHERE file_id = ${other.fileId}`;
      const draft = (await openDraft(db.sql, other, OWNER))!;
      for (const slice of slicesOf(content)) {
        for (let at = 0; at < slice.length; )
          at += (await writeSlice(db.sql, other, OWNER, draft, slice.slice(at)))!;
      }
      expect(await publishDraft(db.sql, other, OWNER, draft, { bytes: 1, tokens: 1 })).toBe(true);
    }
    await db.sql`DELETE FROM vector_stores WHERE id = ${other.vectorStoreId}`;

    const steps = await Promise.all([settleTerms(db.sql), settleTerms(db.sql), settleTerms(db.sql)]);
    // t: 4 (7,000 lexemes); u: 2 to add, 2 to take away (3,000); v: 1 (100)
    expect(steps.reduce((a, b) => a + b, 0)).toBe(9);
    expect(await tidy()).toEqual({ ...TIDY, terms: 7000, sets: 1 });
    expect(await db.sql`SELECT generation::text FROM term_sets`).toEqual([{ generation: t.generation }]);
    expect(await kept()).toEqual(await counted());
  });
});

describe('the embedding cache of a job', () => {
  it('is written in bounded statements of its own, and found by the next job', async () => {
    const inserts: number[] = [];
    // A client of its own that sees every statement it sends (the job's cache write goes through it).
    const spy = postgres(db.url!, {
      max: 1,
      onnotice: () => {},
      debug: (_conn, query, params) => {
        if (/INSERT INTO embedding_cache/.test(query))
          inserts.push((params as unknown[]).reduce<number>((n, p) => n + String(p).length, 0));
      },
    }) as unknown as Sql;
    try {
      const embedder = new LocalEmbeddingProvider({ EMBEDDING_DIMENSIONS: 1536 });
      const chunks = Array.from({ length: 400 }, (_, i) => ({
        text: `cached chunk ${i} of a file, in words enough to fill ${i} buckets of its vector`,
        tokens: 16,
      }));
      const first = await embedChunks(spy, embedder, chunks, new AbortController().signal);
      expect(first.misses).toBe(400);
      await first.cache(spy);
      // 400 vectors of 1,536 dimensions, megabytes in all (one statement took 565 ms): none of them large.
      expect(inserts.reduce((a, b) => a + b, 0)).toBeGreaterThan(1024 * 1024);
      for (const bytes of inserts) expect(bytes).toBeLessThan(300 * 1024);
      const again = await embedChunks(spy, embedder, chunks, new AbortController().signal);
      expect(again.hits).toBe(400);
    } finally {
      await spy.end();
      await closeLocalEmbedder();
    }
  });
});
