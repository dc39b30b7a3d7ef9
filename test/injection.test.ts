import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

// SQL, jsonpath and tsquery syntax in filter keys and values, ids, names, metadata and file names is
// data, never code: it is stored and matched literally, and the tables are untouched.

const SQL = "x'); DROP TABLE chunks; --";
const OR = "' OR '1'='1";
const JSONPATH = '$.** ? (@ like_regex ".*")';
let app: TestApp;
let store: string;
let file: string;

beforeAll(async () => {
  app = await startTestApp();
  const client = app.client();
  store = (await client.vectorStores.create({ name: SQL, metadata: { [OR]: JSONPATH } })).id;
  const upload = await client.files.create({
    file: await toFile(Buffer.from('The quick brown fox & the lazy dog: a | b <-> c! (notes)'), `${SQL}.txt`),
    purpose: 'assistants',
  });
  file = upload.id;
  await client.vectorStores.files.createAndPoll(store, {
    file_id: file,
    attributes: { [SQL]: OR, [JSONPATH]: 1, plain: JSONPATH },
  });
});
afterAll(() => app?.close());

const search = (body: Record<string, unknown>) => app.client().vectorStores.search(store, body as never);

describe('injection is inert', () => {
  it('stores names, metadata and file names exactly as sent', async () => {
    const s = await app.client().vectorStores.retrieve(store);
    expect(s.name).toBe(SQL);
    expect(s.metadata).toEqual({ [OR]: JSONPATH });
    expect((await app.client().files.retrieve(file)).filename).toBe(`${SQL}.txt`);
  });

  it('matches filter keys and values literally', async () => {
    const hits = async (filters: unknown) => (await search({ query: 'fox', filters })).data.length;
    expect(await hits({ type: 'eq', key: SQL, value: OR })).toBe(1);
    expect(await hits({ type: 'eq', key: JSONPATH, value: 1 })).toBe(1);
    expect(await hits({ type: 'eq', key: 'plain', value: JSONPATH })).toBe(1);
    // What would widen a query built by concatenation matches nothing here.
    expect(await hits({ type: 'eq', key: SQL, value: "' OR 'x'='x" })).toBe(0);
    expect(await hits({ type: 'eq', key: `${SQL}' OR '1'='1`, value: OR })).toBe(0);
    expect(await hits({ type: 'in', key: 'plain', value: [OR, "') OR true --"] })).toBe(0);
    expect(await hits({ type: 'ne', key: SQL, value: OR })).toBe(0);
    expect((await search({ query: 'fox', filter: { [SQL]: OR } })).data.length).toBe(1);
  });

  it('reads tsquery operators in a query as words, in every search mode', async () => {
    for (const query of ['fox & !dog', 'a | b <-> c:*', "'fox'", '!!(( ))', 'fox:* & (lazy | quick)', OR]) {
      for (const search_mode of ['keyword', 'hybrid', 'vector']) {
        const res = await search({ query, search_mode });
        expect(Array.isArray(res.data), `${search_mode} ${query}`).toBe(true);
      }
    }
    expect((await search({ query: 'fox & !dog', search_mode: 'keyword' })).data.length).toBe(1);
  });

  it('leaves every table in place', async () => {
    const tables = await app.db.sql<{ tablename: string }[]>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['api_keys', 'chunks', 'files', 'vector_store_files', 'vector_stores']),
    );
    const [n] = await app.db.sql`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${file}`;
    expect(n!.n).toBeGreaterThan(0);
  });
});
