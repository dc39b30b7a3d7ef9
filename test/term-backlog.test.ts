import { type DoctorReport, runDoctor } from '@vsdb/core/doctor';
import { runMaintenance } from '@vsdb/core/maintenance/run';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keywordSearch } from '../packages/core/src/search/search.ts';
import { startTestApp, type TestApp } from './app.ts';

// A file of more distinct lexemes than one batch of the term backlog (migration 0009), through the API on
// each engine: its statistics are exact at every step (the doctor's recount), BM25 ranks it the same
// whether its terms are in the backlog or in chunk_terms, and nothing is left once it is gone.
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

const exact = async () => {
  const report: DoctorReport = await runDoctor({ sql: app.db.sql });
  return report.checks.find((c) => c.name === 'search_statistics_exact')!;
};
const count = async (table: string) =>
  (await app.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM ${app.db.sql(table)}`)[0]!.n;

describe('a file of 3,000 distinct words', () => {
  it('is counted exactly while attached to two stores and after it is deleted, and leaves nothing', async () => {
    const client = app.client();
    const text = Array.from({ length: 3000 }, (_, i) => `zq${i}w`).join(' ');
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'words.txt'),
      purpose: 'assistants',
    });
    const stores = [];
    for (const name of ['one', 'two']) {
      const store = await client.vectorStores.create({ name });
      expect((await client.vectorStores.files.createAndPoll(store.id, { file_id: file.id })).status).toBe(
        'completed',
      );
      stores.push(store.id);
    }
    const scores = async (id: string) =>
      (
        await keywordSearch(app.db.sql, {
          projectId: 'proj_default',
          vectorStoreIds: [id],
          text: 'zq7w zq2999w',
          limit: 5,
        })
      ).map((h) => h.bm25);
    const before = await scores(stores[0]!);
    expect(before).toHaveLength(2);
    expect(await scores(stores[1]!)).toEqual(before);
    // Each job settled its own terms; each store keeps its file's term counts while the chunks exist.
    expect(await count('term_backlog')).toBe(0);
    expect(await count('term_sets')).toBe(2);
    expect(await exact()).toMatchObject({ ok: true });

    // Deleted: its chunks go from both stores in the request, their terms through the backlog.
    await client.files.delete(file.id);
    expect(await count('term_backlog')).toBe(2);
    expect(await exact()).toMatchObject({ ok: true });
    expect(await scores(stores[0]!)).toEqual([]);
    const report = await runMaintenance(app.deps);
    expect(report.settled_terms).toBe(4); // 2,000 + 1,000 lexemes in each store
    for (const table of ['term_backlog', 'term_sets', 'generation_terms']) expect(await count(table)).toBe(0);
    expect(
      await app.db
        .sql`SELECT vector_store_id, lexeme FROM chunk_terms WHERE chunks <> 0 AND vector_store_id = ANY(${stores})`,
    ).toEqual([]);
    expect(await exact()).toMatchObject({ ok: true });
  });
});
