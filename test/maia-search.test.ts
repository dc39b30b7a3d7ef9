import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { type MaiaClient, maiaClient } from './maia-client.ts';

// MAIA's search and structured queries as examples/maia_tool.py and tests/integration send them.
let app: TestApp;
let maia: MaiaClient;
let store: string;
const files: Record<string, string> = {};
type Obj = Record<string, unknown>;
type Hit = Obj & { score: number; content: string; score_details: Record<string, number> | null };

const DOCS: Record<string, string> = {
  python:
    'Python is a high-level programming language. Python supports structured and functional programming.',
  fastapi: 'FastAPI is a modern web framework for building APIs with Python based on type hints.',
  pgvector: 'pgvector is an extension for PostgreSQL that adds vector similarity search and HNSW indexes.',
  cooking: 'A cooking recipe: simmer tomato sauce with basil and garlic, then toss with pasta.',
  cooking2: 'A cooking recipe: simmer tomato sauce with basil and garlic, then serve with pasta.',
};
const CSV = 'Name,Age,City,Salary\nAlice,30,Austin,75000\nBob,25,Dallas,65000\nCharlie,35,Houston,90000';

beforeAll(async () => {
  app = await startTestApp();
  maia = maiaClient(app.url);
  store = (await maia.json('/v1/vector_stores', { name: 'search' })).body.id as string;
  for (const [name, content] of Object.entries(DOCS)) {
    const attrs = JSON.stringify({ topic: name, year: name === 'python' ? 2024 : 2020 });
    const r = await maia.files(`/v1/vector_stores/${store}/files`, [`${name}.txt`, content, 'text/plain'], {
      attributes: attrs,
    });
    expect(r.body.status).toBe('completed');
    files[name] = r.body.id as string;
  }
});
afterAll(() => app?.close());

const search = (body: Obj, id = store) =>
  maia.json<{ data: Hit[] } & Obj>(`/v1/vector_stores/${id}/search`, body);

describe('MAIA search', () => {
  it('#31 #32 #33 #34 maia_tool.py’s request: vector mode, MAIA’s fields, content a string', async () => {
    const r = await search({ query: 'What is pgvector?', max_results: 3 });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['object', 'data', 'search_query', 'search_mode']);
    expect(r.body).toMatchObject({
      object: 'list',
      search_query: 'What is pgvector?',
      search_mode: 'vector',
    });
    expect(r.body.data.length).toBeGreaterThan(0);
    expect(r.body.data.length).toBeLessThanOrEqual(3);
    const top = r.body.data[0]!;
    expect(Object.keys(top)).toEqual([
      'file_id',
      'filename',
      'chunk_index',
      'content',
      'score',
      'metadata',
      'file_attributes',
      'score_details',
    ]);
    expect(top).toMatchObject({ file_id: files.pgvector, filename: 'pgvector.txt', chunk_index: 0 });
    expect(top.content).toBe(DOCS.pgvector);
    expect(top.score_details).toBeNull();
    expect(top.metadata).toEqual({ topic: 'pgvector', year: 2020 });
    expect(top.file_attributes).toEqual({ topic: 'pgvector', year: 2020 });
    expect(Math.round(top.score * 1e6) / 1e6).toBe(top.score);
    const scores = r.body.data.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('#34 a higher score_threshold keeps fewer results; #44 an empty store answers data: []', async () => {
    const low = await search({
      query: 'Python programming language',
      score_threshold: 0.01,
      max_results: 10,
    });
    const high = await search({
      query: 'Python programming language',
      score_threshold: 0.5,
      max_results: 10,
    });
    expect(low.body.data.length).toBeGreaterThan(high.body.data.length);
    expect(high.body.data.every((h) => h.score >= 0.5)).toBe(true);
    const empty = (await maia.json('/v1/vector_stores', { name: 'empty' })).body.id as string;
    expect((await search({ query: 'anything', search_mode: 'hybrid' }, empty)).body.data).toEqual([]);
    expect((await search({ query: 'anything' }, 'vs_missing')).status).toBe(404);
  });

  it('#35 filter values are compared as text', async () => {
    const asText = await search({ query: 'programming', filter: { year: '2024' } });
    expect(asText.body.data.map((h) => h.file_id)).toEqual([files.python]);
    const asNumber = await search({ query: 'programming', filter: { year: 2024, topic: 'python' } });
    expect(asNumber.body.data.map((h) => h.file_id)).toEqual([files.python]);
    expect((await search({ query: 'programming', filter: { topic: 'nothing' } })).body.data).toEqual([]);
  });

  it('#35 a filter past the filter limits is a 422, parsed with the request', async () => {
    // Each numeric key becomes `eq` as text or as number: 1 + 40 * 3 conditions, past the 100 allowed.
    const filter = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    const r = await search({ query: 'programming', filter });
    expect(r.status).toBe(422);
    expect(r.body).toEqual({
      error: {
        message: 'body -> filter: filters may hold at most 100 conditions',
        type: 'validation_error',
        code: 422,
      },
    });
    const long = await search({ query: 'programming', filter: { topic: 'x'.repeat(4097) } });
    expect(long.status).toBe(422);
    expect(long.body.error).toMatchObject({
      code: 422,
      message: expect.stringMatching(/^body -> filter -> topic: /),
    });
  });

  it('#30 a file’s attributes reach its hits as metadata, without a `structured` key', async () => {
    const own = (await maia.json('/v1/vector_stores', { name: 'attrs' })).body.id as string;
    const up = await maia.files(`/v1/vector_stores/${own}/files`, ['a.txt', DOCS.fastapi!, 'text/plain'], {
      attributes: JSON.stringify({ structured: 'by the caller', topic: 'web' }),
    });
    expect(up.body.status).toBe('completed');
    const [hit] = (await search({ query: 'FastAPI web framework' }, own)).body.data;
    expect(hit!.metadata).toEqual({ topic: 'web' });
    expect(hit!.file_attributes).toEqual({ structured: 'by the caller', topic: 'web' });
  });

  it('#36 query_embedding is used instead of embedding the query', async () => {
    const emb = await maia.json<{ data: number[][] }>('/v1/embeddings', {
      input: ['vector similarity PostgreSQL'],
    });
    const r = await search({ query: 'unrelated words entirely', query_embedding: emb.body.data[0] });
    expect(r.body.data[0]!.file_id).toBe(files.pgvector);
    // One of another length is the caller's error (MAIA's pgvector would fail with a 500).
    for (const search_mode of ['vector', 'hybrid']) {
      expect(await search({ query: 'x', query_embedding: [1, 2, 3], search_mode })).toMatchObject({
        status: 400,
        body: { error: { message: expect.stringMatching(/^query_embedding has 3 dimensions/), code: 400 } },
      });
    }
  });

  it('#37 #38 #39 #43 hybrid: score_details with min-max normalised signals', async () => {
    const r = await search({
      query: 'cooking recipe pasta',
      search_mode: 'hybrid',
      max_results: 5,
      mmr_lambda: 1,
    });
    expect(r.body.search_mode).toBe('hybrid');
    for (const h of r.body.data) {
      expect(Object.keys(h.score_details!)).toEqual(['vector', 'text', 'temporal']);
      expect(h.score_details!.vector).toBeGreaterThanOrEqual(0);
      expect(h.score_details!.vector).toBeLessThanOrEqual(1);
      expect(h.score_details!.text).toBeGreaterThanOrEqual(0);
      expect(h.score_details!.text).toBeLessThanOrEqual(1);
      expect(h.score_details!.temporal).toBeGreaterThan(0.99);
    }
    const top = r.body.data[0]!;
    expect([files.cooking, files.cooking2]).toContain(top.file_id);
    expect(top.score_details!.text).toBeGreaterThan(0);
    const d = top.score_details as { vector: number; text: number; temporal: number };
    expect(top.score).toBeCloseTo((0.7 * d.vector + 0.3 * d.text) * d.temporal, 5);
    const textOnly = await search({
      query: 'cooking recipe pasta',
      search_mode: 'hybrid',
      ranking_weights: { vector: 0, text: 1 },
      mmr_lambda: 1,
    });
    for (const h of textOnly.body.data)
      expect(h.score).toBeCloseTo(h.score_details!.text! * h.score_details!.temporal!, 5);
    expect(
      (await search({ query: 'x', search_mode: 'hybrid', ranking_weights: { vector: 0, text: 0 } })).status,
    ).toBe(422);
    expect((await search({ query: 'x', half_life_days: 0 })).status).toBe(422);
  });

  it('#41 MMR: a lower mmr_lambda lets a different passage past a near-duplicate', async () => {
    const body = { query: 'cooking recipe tomato pasta python', search_mode: 'hybrid', max_results: 2 };
    const pure = await search({ ...body, mmr_lambda: 1 });
    const diverse = await search({ ...body, mmr_lambda: 0.1 });
    const both = [files.cooking, files.cooking2];
    expect(pure.body.data.map((h) => h.file_id).every((id) => both.includes(id as string))).toBe(true);
    expect(diverse.body.data.filter((h) => both.includes(h.file_id as string))).toHaveLength(1);
  });

  it('#40 #42 temporal decay: an old file scores by half-life, threshold on relevance first', async () => {
    await app.db.sql`UPDATE vector_store_files SET updated_at = now() - interval '60 days'
      WHERE vector_store_id = ${store} AND file_id = ${files.fastapi!}`;
    const q = { query: 'FastAPI web framework', search_mode: 'hybrid', mmr_lambda: 1, max_results: 5 };
    const r = await search(q);
    const old = r.body.data.find((h) => h.file_id === files.fastapi)!;
    expect(old.score_details!.temporal).toBeCloseTo(0.25, 3);
    const short = (await search({ ...q, half_life_days: 10 })).body.data.find(
      (h) => h.file_id === files.fastapi,
    )!;
    expect(short.score_details!.temporal).toBeLessThan(old.score_details!.temporal!);
    // Relevance is 1 before decay: a threshold of 0.9 keeps it although its final score is 0.25.
    const kept = await search({ ...q, score_threshold: 0.9 });
    expect(kept.body.data.map((h) => h.file_id)).toContain(files.fastapi);
  });
});

describe('MAIA structured CSV', () => {
  let csvStore: string;
  let csvFile: string;
  const query = (sql: string, id = csvStore) =>
    maia.json<Obj & { rows: unknown[][] }>(`/v1/vector_stores/${id}/query`, { sql });

  beforeAll(async () => {
    csvStore = (await maia.json('/v1/vector_stores', { name: 'test-structured-csv' })).body.id as string;
    const r = await maia.files(`/v1/vector_stores/${csvStore}/files`, ['employees.csv', CSV, 'text/csv']);
    expect(r.status).toBe(201);
    csvFile = r.body.id as string;
  });

  it('#45 #46 a CSV keeps its rows: attributes.structured as MAIA reports it', async () => {
    const file = (await maia.get(`/v1/vector_stores/${csvStore}/files/${csvFile}`)).body;
    expect(file.status).toBe('completed');
    const structured = (file.attributes as { structured: Obj & { columns: Obj[] } }).structured;
    expect(structured).toMatchObject({ table_name: 'csv_rows', row_count: 3 });
    expect(structured.columns.map((c) => [c.normalized, c.original_header])).toEqual([
      ['name', 'Name'],
      ['age', 'Age'],
      ['city', 'City'],
      ['salary', 'Salary'],
    ]);
    expect(structured.columns.map((c) => c.inferred_type)).toEqual(['text', 'numeric', 'text', 'numeric']);
    // The OpenAI mount's attributes stay within OpenAI's types.
    const vsf = await app.client().vectorStores.files.retrieve(csvFile, { vector_store_id: csvStore });
    expect(vsf.attributes).toEqual({});
  });

  it('#47 test_structured_csv.py’s query, with Postgres casts', async () => {
    const r = await query(
      "SELECT data->>'name' AS name, (data->>'salary')::numeric AS salary FROM csv_rows " +
        `WHERE file_id = '${csvFile}' AND (data->>'salary')::numeric > 70000 ORDER BY salary DESC`,
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      columns: ['name', 'salary'],
      rows: [
        ['Charlie', 90000],
        ['Alice', 75000],
      ],
      row_count: 2,
      truncated: false,
    });
    expect((await query('SELECT data FROM csv_rows')).body.row_count).toBe(3);
  });

  it('#48 writes, other tables and bad SQL are 400 validation_error', async () => {
    for (const sql of [
      'DROP TABLE csv_rows',
      'DELETE FROM csv_rows WHERE 1=1',
      "INSERT INTO csv_rows VALUES ('a', 1, '{}')",
      'SELECT * FROM files',
      'SELEC 1',
      "ATTACH 'x' AS y",
    ]) {
      const r = await query(sql);
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { type: 'validation_error', code: 400 } });
    }
  });

  it('#47 a query sees only its store’s rows, and the per-file route only that file’s', async () => {
    const other = (await maia.json('/v1/vector_stores', { name: 'other' })).body.id as string;
    expect((await query('SELECT COUNT(*) FROM csv_rows', other)).body.rows).toEqual([[0]]);
    const second = await maia.files(`/v1/vector_stores/${csvStore}/files`, [
      'more.csv',
      'a,b\n1,2\n',
      'text/csv',
    ]);
    expect((await query('SELECT COUNT(*) FROM csv_rows')).body.rows).toEqual([[4]]);
    const one = await maia.json<{ rows: unknown[][] }>(
      `/v1/vector_stores/${csvStore}/files/${second.body.id}/query`,
      {
        sql: 'SELECT COUNT(*), MIN(file_id) FROM csv_rows',
      },
    );
    expect(one.body.rows).toEqual([[1, second.body.id]]);
    await maia.delete(`/v1/vector_stores/${csvStore}/files/${second.body.id}`);
  });

  it('#50 preview: columns, the first rows, total_rows; not a CSV is 400', async () => {
    const two = await maia.get<{ rows: Obj[]; columns: Obj[] } & Obj>(
      `/v1/vector_stores/${csvStore}/files/${csvFile}/preview`,
      { limit: 2 },
    );
    expect(two.status).toBe(200);
    expect(two.body.total_rows).toBe(3);
    expect(two.body.rows).toEqual([
      { name: 'Alice', age: 30, city: 'Austin', salary: 75000 },
      { name: 'Bob', age: 25, city: 'Dallas', salary: 65000 },
    ]);
    expect(two.body.columns[0]).toEqual({
      normalized: 'name',
      original_header: 'Name',
      inferred_type: 'text',
      sample_values: ['Alice', 'Bob', 'Charlie'],
    });
    const all = await maia.get<{ rows: Obj[] }>(`/v1/vector_stores/${csvStore}/files/${csvFile}/preview`);
    expect(all.body.rows).toHaveLength(3);
    const txt = await maia.form(`/v1/vector_stores/${csvStore}/files`, {
      text: 'not a table',
      filename: 'notes.txt',
    });
    expect((await maia.get(`/v1/vector_stores/${csvStore}/files/${txt.body.id}/preview`)).status).toBe(400);
    expect(
      (await maia.get(`/v1/vector_stores/${csvStore}/files/${csvFile}/preview`, { limit: 501 })).status,
    ).toBe(422);
  });

  it('#51 deleting the file removes its rows from later queries', async () => {
    const count = `SELECT COUNT(*) AS cnt FROM csv_rows WHERE file_id = '${csvFile}'`;
    expect((await query(count)).body.rows).toEqual([[3]]);
    expect((await maia.delete(`/v1/vector_stores/${csvStore}/files/${csvFile}`)).body).toMatchObject({
      deleted: true,
    });
    expect((await query(count)).body.rows).toEqual([[0]]);
  });
});
