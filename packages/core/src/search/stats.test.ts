import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../test/helpers.ts';
import { addFile, insertChunks, random, seedStore, unitVector } from '../../../../test/search-fixtures.ts';
import type { Database } from '../db/client.ts';
import { keywordSearch, searchChunks } from './search.ts';

// The statistics the triggers of migration 0004 keep, against the same figures counted from scratch.
let db: Database;
const rand = random(16);
const D = 64;
const text = (i: number) =>
  `Invoice ${i} from the licence office, ${i % 3 === 0 ? 'rare zanzibar term' : 'plain'}.`;

beforeAll(async () => {
  db = await freshDatabase();
});
afterAll(() => db?.close());

async function kept() {
  const stores =
    await db.sql`SELECT id, chunk_count::int AS n, token_count::int AS tokens FROM vector_stores ORDER BY id`;
  const terms =
    await db.sql`SELECT vector_store_id, lexeme, chunks FROM chunk_terms WHERE chunks <> 0 ORDER BY 1, 2`;
  return { stores, terms };
}

async function counted() {
  const stores = await db.sql`
    SELECT s.id, count(c.id)::int AS n, coalesce(sum(tsvector_tokens(c.tsv)), 0)::int AS tokens
    FROM vector_stores s LEFT JOIN chunks c ON c.vector_store_id = s.id GROUP BY s.id ORDER BY s.id`;
  const terms = await db.sql`
    SELECT c.vector_store_id, u.lexeme, count(*)::int AS chunks FROM chunks c, unnest(c.tsv) u
    GROUP BY 1, 2 ORDER BY 1, 2`;
  return { stores, terms };
}

const rows = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({ content: text(from + i), embedding: unitVector(rand, D) }));

describe('per-store statistics', () => {
  it('follow inserts, re-ingestion, detaching, and file and store deletion', async () => {
    const { sql } = db;
    await seedStore(sql, { project: 'proj_s', store: 'vs_s1', file: 'file_a' });
    await seedStore(sql, { project: 'proj_s', store: 'vs_s2', file: 'file_b' });
    await addFile(sql, { project: 'proj_s', store: 'vs_s1', file: 'file_b' });
    await insertChunks(sql, 'vs_s1', 'file_a', rows(0, 30));
    await insertChunks(sql, 'vs_s1', 'file_b', rows(100, 10));
    await insertChunks(sql, 'vs_s2', 'file_b', rows(100, 10));
    expect(await kept()).toEqual(await counted());
    expect((await kept()).stores.map((s) => s.n)).toEqual([40, 10]);

    // Re-ingestion: the file's chunks are replaced in one transaction.
    await sql.begin(async (tx) => {
      await tx`DELETE FROM chunks WHERE vector_store_id = 'vs_s1' AND file_id = 'file_a'`;
      await insertChunks(tx as never, 'vs_s1', 'file_a', rows(50, 5));
    });
    expect(await kept()).toEqual(await counted());
    // Detach (cascade from vector_store_files), delete a file (cascade through both stores), delete a store.
    await sql`DELETE FROM vector_store_files WHERE vector_store_id = 'vs_s1' AND file_id = 'file_a'`;
    expect(await kept()).toEqual(await counted());
    await sql`DELETE FROM files WHERE id = 'file_b'`;
    expect(await kept()).toEqual(await counted());
    expect((await kept()).stores.map((s) => s.n)).toEqual([0, 0]);
    await insertChunks(sql, 'vs_s2', 'file_b', rows(0, 3)).catch(() => {}); // file gone: refused by the FK
    await sql`DELETE FROM vector_stores WHERE id = 'vs_s2'`;
    expect(await kept()).toEqual(await counted());
    expect(await sql`SELECT * FROM chunk_terms WHERE vector_store_id = 'vs_s2'`).toEqual([]);
  });

  it('plan the search: a store holding fewer chunks than the threshold is ranked exactly', async () => {
    const { sql } = db;
    await seedStore(sql, { project: 'proj_s', store: 'vs_s3', file: 'file_c' });
    await insertChunks(sql, 'vs_s3', 'file_c', rows(0, 50));
    const base = {
      projectId: 'proj_s',
      vectorStoreIds: ['vs_s3'],
      embedding: unitVector(rand, D),
      text: null,
      mode: 'vector' as const,
      limit: 5,
      efSearch: 40,
    };
    expect((await searchChunks(sql, { ...base, exactThreshold: 50 })).scan).toBe('exact');
    // Above it, a filter that few chunks pass is still counted and ranked exactly.
    const rare = { type: 'eq' as const, key: 'missing', value: 1 };
    expect((await searchChunks(sql, { ...base, exactThreshold: 10, filter: rare })).scan).toBe('exact');
    expect((await searchChunks(sql, { ...base, exactThreshold: 10 })).scan).toBe('hnsw');
    // The two thresholds apply apart: the store's size against one, the filter's matches against the other.
    const half = { type: 'lt' as const, key: 'n', value: 25 };
    await sql`UPDATE chunks SET attributes = jsonb_build_object('n', chunk_index) WHERE vector_store_id = 'vs_s3'`;
    const plan = (exactThreshold: number, matchThreshold: number, filter = half) =>
      searchChunks(sql, { ...base, exactThreshold, matchThreshold, filter }).then((p) => p.scan);
    expect(await plan(50, 0)).toBe('exact'); // a small store, whatever the filter
    expect(await plan(10, 25)).toBe('exact'); // 25 pass: at most matchThreshold
    expect(await plan(10, 24, { type: 'lt', key: 'n', value: 24.5 })).toBe('hnsw'); // 25 pass: one too many
  });

  it('plan the search: the index walk, like the exact scan, never returns an unpublished draft', async () => {
    const { sql } = db;
    await seedStore(sql, { project: 'proj_s', store: 'vs_s5', file: 'file_e' });
    const query = unitVector(rand, D);
    const published = await insertChunks(sql, 'vs_s5', 'file_e', rows(0, 60));
    // A draft (migration 0007) of another file whose chunks sit right on the query: the nearest by far.
    await addFile(sql, { project: 'proj_s', store: 'vs_s5', file: 'file_f' });
    await sql`INSERT INTO chunk_drafts (vector_store_id, file_id, generation) VALUES ('vs_s5', 'file_f', 7)`;
    const near = rows(100, 30).map((r) => ({ ...r, embedding: query }));
    const drafted = await insertChunks(sql, 'vs_s5', 'file_f', near);
    await sql`UPDATE chunks SET generation = 7 WHERE id = ANY(${drafted})`;
    const base = {
      projectId: 'proj_s',
      vectorStoreIds: ['vs_s5'],
      embedding: query,
      text: null,
      mode: 'vector' as const,
      limit: 10,
      efSearch: 40,
    };
    const exact = await searchChunks(sql, { ...base, exactThreshold: 1e6 });
    const walked = await searchChunks(sql, { ...base, exactThreshold: 0 });
    expect(exact.scan).toBe('exact');
    for (const page of [exact, walked]) {
      expect(page.data).toHaveLength(10);
      for (const hit of page.data) expect(published).toContain(hit.chunkId);
    }
    expect(walked.data.map((h) => h.chunkId)).toEqual(exact.data.map((h) => h.chunkId));
  });

  it('rank a rare term above common ones (BM25)', async () => {
    const page = await searchChunks(db.sql, {
      projectId: 'proj_s',
      vectorStoreIds: ['vs_s3'],
      embedding: null,
      text: 'licence office zanzibar',
      mode: 'keyword',
      limit: 20,
      efSearch: 40,
    });
    // Every chunk holds "licence office"; only every third holds "zanzibar": those come first.
    const first = page.data.slice(0, 17);
    expect(first.every((h) => h.content.includes('zanzibar'))).toBe(true);
    expect(page.data.at(-1)!.content).not.toContain('zanzibar');
    // The raw scores, for callers that normalise them (MAIA): the same order, best first.
    const raw = await keywordSearch(db.sql, {
      projectId: 'proj_s',
      vectorStoreIds: ['vs_s3'],
      text: 'licence office zanzibar',
      limit: 20,
    });
    expect(raw.map((h) => h.chunkId)).toEqual(page.data.map((h) => h.chunkId));
    const scores = raw.map((h) => h.bm25);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBeGreaterThan(scores.at(-1)! * 10);
  });
});
