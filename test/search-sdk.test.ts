import { QueryEmbeddingCache } from '@vsdb/core/search/query-cache';
import { touchesSettled } from '@vsdb/core/search/touch';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
let client: OpenAI;
let store: string;
let other: string;
const ids: Record<string, string> = {};

const docs: [string, string, Record<string, string | number | boolean>][] = [
  [
    'postgres.md',
    'Postgres tuning: shared_buffers, work_mem and autovacuum settings for large tables.',
    { topic: 'db', year: 2024, public: true },
  ],
  [
    'lambda.md',
    'AWS Lambda cold starts depend on bundle size and the runtime initialisation code.',
    { topic: 'aws', year: 2025, public: true },
  ],
  [
    'errors.md',
    'Error ECONNREFUSED means the server refused the connection; check the port and the firewall.',
    { topic: 'ops', year: 2023, public: false },
  ],
  [
    'kittens.md',
    'Kittens sleep most of the day and play with yarn in the evening.',
    { topic: 'pets', year: 2025, public: true },
  ],
  [
    'vectors.md',
    'HNSW indexes trade recall for speed; ef_search controls the candidate list of vector search.',
    { topic: 'db', year: 2025, public: false },
  ],
];

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-search' });
  client = app.client();
  store = (await client.vectorStores.create({ name: 'search' })).id;
  for (const [name, text, attributes] of docs) {
    const f = await client.files.create({
      file: await toFile(Buffer.from(text), name),
      purpose: 'assistants',
    });
    await client.vectorStores.files.createAndPoll(store, { file_id: f.id, attributes });
    ids[name] = f.id;
  }
  other = (await client.vectorStores.create({ name: 'other' })).id;
  const f = await client.files.create({
    file: await toFile(Buffer.from('Postgres replication and failover.'), 'repl.md'),
    purpose: 'assistants',
  });
  await client.vectorStores.files.createAndPoll(other, { file_id: f.id });
  ids['repl.md'] = f.id;
});
afterAll(() => app?.close());

type Item = {
  file_id: string;
  filename: string;
  score: number;
  chunk_index: number;
  score_details: { vector: number; text: number };
};
async function raw(path: string, body: unknown) {
  const res = await fetch(`${app.url}${path}`, {
    method: 'POST',
    // Our extras (chunk_index, score_details, ...) are opt-in beside the spec's fields.
    headers: { 'x-api-key': 'sk-search', 'content-type': 'application/json', 'x-search-extras': 'true' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    json: (await res.json()) as {
      data: Item[];
      next_page: string | null;
      has_more: boolean;
      error?: { param: string };
    },
  };
}

describe('search through the SDK', () => {
  it('finds the right file and answers in the OpenAI shape', async () => {
    const page = await client.vectorStores.search(store, { query: 'kittens play with yarn' });
    const first = page.data[0]!;
    expect(first).toMatchObject({
      file_id: ids['kittens.md'],
      filename: 'kittens.md',
      attributes: { topic: 'pets' },
    });
    expect(first.content[0]).toMatchObject({ type: 'text', text: expect.stringContaining('yarn') });
    expect(first.score).toBeGreaterThan(0);
    expect(first.score).toBeLessThanOrEqual(1);
    const scores = page.data.map((d) => d.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
  });

  it('finds exact identifiers', async () => {
    const page = await client.vectorStores.search(store, { query: 'ECONNREFUSED' });
    expect(page.data[0]?.file_id).toBe(ids['errors.md']);
  });

  it('applies every filter operator, nested', async () => {
    const files = async (filters: unknown) =>
      (
        await client.vectorStores.search(store, {
          query: 'settings speed search',
          filters: filters as never,
          max_num_results: 50,
        })
      ).data
        .map((d) => d.filename)
        .sort();
    expect(await files({ type: 'eq', key: 'topic', value: 'db' })).toEqual(['postgres.md', 'vectors.md']);
    expect(await files({ type: 'ne', key: 'topic', value: 'db' })).not.toContain('postgres.md');
    expect(await files({ type: 'gte', key: 'year', value: 2025 })).toEqual([
      'kittens.md',
      'lambda.md',
      'vectors.md',
    ]);
    expect(await files({ type: 'lt', key: 'year', value: 2024 })).toEqual(['errors.md']);
    expect(await files({ type: 'in', key: 'topic', value: ['aws', 'pets'] })).toEqual([
      'kittens.md',
      'lambda.md',
    ]);
    expect(await files({ type: 'nin', key: 'topic', value: ['aws', 'pets', 'db'] })).toEqual(['errors.md']);
    expect(await files({ type: 'eq', key: 'public', value: false })).toEqual(['errors.md', 'vectors.md']);
    expect(
      await files({
        type: 'or',
        filters: [
          {
            type: 'and',
            filters: [
              { type: 'eq', key: 'topic', value: 'db' },
              { type: 'gt', key: 'year', value: 2024 },
            ],
          },
          { type: 'eq', key: 'topic', value: 'ops' },
        ],
      }),
    ).toEqual(['errors.md', 'vectors.md']);
  });

  it('bounds max_num_results, pages with next_page and honours score_threshold', async () => {
    const one = await raw(`/v1/vector_stores/${store}/search`, {
      query: 'the',
      max_num_results: 1,
      ranking_options: { ranker: 'none' },
    });
    expect(one.json.data).toHaveLength(1);
    expect(one.json.has_more).toBe(true);
    const two = await raw(`/v1/vector_stores/${store}/search`, {
      query: 'the',
      max_num_results: 1,
      ranking_options: { ranker: 'none' },
      page: one.json.next_page,
    });
    expect(two.json.data).toHaveLength(1);
    expect(two.json.data[0]!.file_id).not.toBe(one.json.data[0]!.file_id);
    expect(two.json.data[0]!.score).toBeLessThanOrEqual(one.json.data[0]!.score);
    expect((await raw(`/v1/vector_stores/${store}/search`, { query: 'x', max_num_results: 51 })).status).toBe(
      400,
    );
    expect((await raw(`/v1/vector_stores/${store}/search`, { query: 'x', page: 'garbage' })).status).toBe(
      400,
    );

    const all = await client.vectorStores.search(store, {
      query: 'kittens yarn',
      ranking_options: { ranker: 'none' },
    });
    const threshold = (all.data[0]!.score + all.data[1]!.score) / 2;
    const high = await client.vectorStores.search(store, {
      query: 'kittens yarn',
      ranking_options: { ranker: 'none', score_threshold: threshold },
    });
    expect(high.data.length).toBeGreaterThanOrEqual(1);
    expect(high.data.every((d) => d.score >= threshold)).toBe(true);
    expect(high.data.length).toBeLessThan(all.data.length);
  });

  it('fuses an array of queries and rewrites queries', async () => {
    const page = await client.vectorStores.search(store, { query: ['kittens yarn', 'lambda cold starts'] });
    // The SDK's page keeps `data`; the rest of the body is read raw.
    const body = (
      await raw(`/v1/vector_stores/${store}/search`, { query: ['kittens yarn', 'lambda cold starts'] })
    ).json;
    expect((body as unknown as { search_query: string[] }).search_query).toEqual([
      'kittens yarn',
      'lambda cold starts',
    ]);
    const top2 = page.data
      .slice(0, 2)
      .map((d) => d.filename)
      .sort();
    expect(top2).toEqual(['kittens.md', 'lambda.md']);
    const rewritten = (
      await raw(`/v1/vector_stores/${store}/search`, {
        query: 'Can you tell me what is HNSW?',
        rewrite_query: true,
      })
    ).json;
    expect((rewritten as unknown as { search_query: string[] }).search_query).toEqual(['HNSW']);
    expect(rewritten.data[0]?.filename).toBe('vectors.md');
  });

  it('weights hybrid search and serves pure vector ranking', async () => {
    const text = await raw(`/v1/vector_stores/${store}/search`, {
      query: 'autovacuum',
      ranking_options: { ranker: 'auto', hybrid_search: { embedding_weight: 0, text_weight: 1 } },
    });
    expect(text.json.data[0]!.filename).toBe('postgres.md');
    expect(text.json.data.every((d) => d.score === d.score_details.text)).toBe(true);
    const vector = await raw(`/v1/vector_stores/${store}/search`, {
      query: 'autovacuum',
      ranking_options: { ranker: 'none' },
    });
    expect(vector.json.data.every((d) => d.score === d.score_details.vector)).toBe(true);
  });

  it("speaks MAIA's dialect", async () => {
    const maia = await raw(`/v1/vector_stores/${store}/search`, {
      query: 'vector search recall',
      max_results: 100,
      filter: { topic: 'db' },
      search_mode: 'keyword',
      score_threshold: 0,
    });
    expect(maia.status).toBe(200);
    expect(maia.json.data.map((d) => d.filename)).toEqual(['vectors.md']);
    expect(maia.json.data[0]).toMatchObject({
      chunk_index: 0,
      score_details: { vector: null, text: expect.any(Number) },
    });
    const [vec] = (
      (await (
        await fetch(`${app.url}/v1/embeddings`, {
          method: 'POST',
          headers: { 'x-api-key': 'sk-search', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', input: 'kittens yarn' }),
        })
      ).json()) as { data: { embedding: number[] }[] }
    ).data;
    const pre = await raw(`/v1/vector_stores/${store}/search`, {
      query: 'kittens yarn',
      query_embedding: vec!.embedding,
      search_mode: 'vector',
    });
    expect(pre.json.data[0]!.filename).toBe('kittens.md');
    const wrong = await raw(`/v1/vector_stores/${store}/search`, { query: 'x', query_embedding: [1, 2, 3] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error?.param).toBe('query_embedding');
    expect((await raw(`/v1/vector_stores/${store}/search`, { query: 'x', max_results: 101 })).status).toBe(
      400,
    );
  });

  it('searches several stores with one global top-k', async () => {
    const res = await raw('/v1/search', {
      vector_store_ids: [store, other],
      query: 'Postgres',
      max_num_results: 3,
    });
    expect(res.status).toBe(200);
    const names = res.json.data.map((d) => d.filename);
    expect(names).toContain('repl.md');
    expect(names).toContain('postgres.md');
    expect((await raw('/v1/search', { vector_store_ids: [store, 'vs_missing'], query: 'x' })).status).toBe(
      404,
    );
  });

  it('caches query embeddings, moves last_active_at and refuses expired stores', async () => {
    const before = app.deps.queryCache.hits;
    await client.vectorStores.search(store, { query: 'a query to cache' });
    await client.vectorStores.search(store, { query: 'a query to cache' });
    expect(app.deps.queryCache.hits).toBe(before + 1);
    // Another instance (its own LRU) finds the query's embedding in the database, not at the provider.
    let calls = 0;
    const counting = {
      ...app.deps.embedder,
      embed: (...a: Parameters<typeof app.deps.embedder.embed>) => {
        calls++;
        return app.deps.embedder.embed(...a);
      },
    };
    await app.deps.queryCache.settled();
    await new QueryEmbeddingCache().embed(counting, ['a query to cache'], { sql: app.db.sql });
    expect(calls).toBe(0);
    await new QueryEmbeddingCache().embed(counting, ['a query nobody asked'], { sql: app.db.sql });
    expect(calls).toBe(1);
    // A missing store answers 404 before the query is embedded: nothing reached the provider or the cache.
    expect((await raw('/v1/vector_stores/vs_missing/search', { query: 'asked of no store' })).status).toBe(
      404,
    );
    await app.deps.queryCache.settled();
    await new QueryEmbeddingCache().embed(counting, ['asked of no store'], { sql: app.db.sql });
    expect(calls).toBe(2);

    // last_active_at moves after the answer, at most once a minute per store: a search is not a write.
    const fresh = (await client.vectorStores.create({ name: 'touched' })).id;
    const age = async () => Date.now() / 1000 - (await client.vectorStores.retrieve(fresh)).last_active_at!;
    await app.db.sql`UPDATE vector_stores SET last_active_at = now() - interval '1 hour' WHERE id = ${fresh}`;
    await client.vectorStores.search(fresh, { query: 'anything' });
    await touchesSettled();
    expect(await age()).toBeLessThan(60);
    await app.db.sql`UPDATE vector_stores SET last_active_at = now() - interval '1 hour' WHERE id = ${fresh}`;
    await client.vectorStores.search(fresh, { query: 'anything' });
    await touchesSettled();
    expect(await age()).toBeGreaterThan(3000);

    await app.db.sql`UPDATE vector_stores SET expires_at = now() - interval '1 second' WHERE id = ${other}`;
    expect((await client.vectorStores.retrieve(other)).status).toBe('expired');
    const expired = await raw(`/v1/vector_stores/${other}/search`, { query: 'Postgres' });
    expect(expired.status).toBe(400);
  });
});
