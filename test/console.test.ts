import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createKey } from '@vsdb/core/auth/keys';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, DIST } from '../packages/console/build.ts';
import { createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';

const KEY = 'sk-console-routes';
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ API_KEYS: KEY });
});
afterAll(() => app?.close());

const h = () => createApp(app.deps);

describe('the committed console build', () => {
  it('is what packages/console/src builds to (run npm run build:console after changing it)', async () => {
    const { files } = await buildConsole();
    const committed = readdirSync(DIST, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => join(d.parentPath, d.name).slice(DIST.length + 1))
      .sort();
    expect(committed).toEqual([...files.keys()].sort());
    for (const [name, body] of files) {
      expect(Buffer.from(body).equals(readFileSync(join(DIST, name))), name).toBe(true);
    }
  });
});

describe('/console and /docs', () => {
  it('serves the page revalidated, its hashed assets immutable and gzipped, with a same-origin CSP', async () => {
    const page = await h().request('/console');
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const js = /src="(\/console\/assets\/app-[A-Z0-9]+\.js)"/.exec(html)![1]!;
    const asset = await h().request(js, { headers: { 'accept-encoding': 'gzip, br' } });
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    const body = gunzipSync(Buffer.from(await asset.arrayBuffer()));
    expect(body.equals(readFileSync(join(DIST, js.slice('/console/'.length))))).toBe(true);
    const again = await h().request('/console', { headers: { 'if-none-match': page.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await h().request('/console/')).headers.get('location')).toBe('/console');
  });

  it('answers 404 in the error envelope for unknown assets, other Swagger versions and package.json', async () => {
    const { version } = JSON.parse(readFileSync('node_modules/swagger-ui-dist/package.json', 'utf8'));
    for (const path of [
      '/console/assets/app-NOPE.js',
      '/console/assets/../index.html',
      '/docs/assets/swagger-ui-0.0.1/swagger-ui-bundle.js',
      `/docs/assets/swagger-ui-${version}/package.json`,
      `/docs/assets/swagger-ui-${version}/index.html`,
    ]) {
      const res = await h().request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    }
    const bundle = await h().request(`/docs/assets/swagger-ui-${version}/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('cache-control')).toContain('immutable');
  });

  it('/docs loads nothing from another host', async () => {
    const html = await (await h().request('/docs')).text();
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).toContain('data-url="/openapi.json"');
  });
});

describe('GET /v1/vector_stores/{id}/files/{file_id}/chunks', () => {
  it("lists a completed file's chunks with index, page, tokens and their range in the parsed text", async () => {
    const client = app.client(KEY);
    const vs = await client.vectorStores.create({ name: 'chunks' });
    const text = Array.from(
      { length: 60 },
      (_, i) => `Sentence number ${i} talks about topic ${i % 7}.`,
    ).join(' ');
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'long.txt'),
      purpose: 'assistants',
    });
    const vsf = await client.vectorStores.files.createAndPoll(vs.id, {
      file_id: file.id,
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 } },
    });
    const res = await client.get<{ object: string; data: Record<string, unknown>[] }>(
      `/vector_stores/${vs.id}/files/${vsf.id}/chunks`,
    );
    expect(res.object).toBe('vector_store.file.chunks');
    expect(res.data.length).toBeGreaterThan(3);
    expect(res.data.map((c) => c.chunk_index)).toEqual(res.data.map((_, i) => i));
    for (const c of res.data) {
      expect(c).toMatchObject({ object: 'vector_store.file.chunk', page: null });
      expect(c.tokens as number).toBeLessThanOrEqual(100);
      expect(c.text).toBe(text.slice(c.char_start as number, c.char_end as number));
    }
    const content = await client.get<{ data: { text: string }[] }>(
      `/vector_stores/${vs.id}/files/${vsf.id}/content`,
    );
    expect(content.data.map((d) => d.text).join('')).toBe(text);
  });

  it('answers 400 while the file is not completed and 404 for another project', async () => {
    const client = app.client(KEY);
    const vs = await client.vectorStores.create({ name: 'pending' });
    const file = await client.files.create({
      file: await toFile(Buffer.from('x'.repeat(10)), 'a.txt'),
      purpose: 'assistants',
    });
    const attached = await client.vectorStores.files.create(vs.id, { file_id: file.id });
    if (attached.status === 'completed') {
      // Inline ingestion finished it: a failed file answers the same 400.
      await app.db.sql`UPDATE vector_store_files SET status = 'failed' WHERE file_id = ${file.id}`;
    }
    const res = await h().request(`/v1/vector_stores/${vs.id}/files/${file.id}/chunks`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe('file_id');
    const other = (await createKey(app.db.sql, 'someone-else')).key;
    const hidden = await h().request(`/v1/vector_stores/${vs.id}/files/${file.id}/chunks`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(hidden.status).toBe(404);
  });
});

describe('GET /v1/vector_stores/{id}/stats', () => {
  it("counts a store's chunks and the embeddings its ingestion took from the cache", async () => {
    const client = app.client(KEY);
    const text = Array.from({ length: 40 }, (_, i) => `Cached sentence ${i} about caching.`).join(' ');
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'c.txt'),
      purpose: 'assistants',
    });
    const stats = (id: string) =>
      client.get<{ object: string; chunk_count: number; embedding_cache: { hits: number; misses: number } }>(
        `/vector_stores/${id}/stats`,
      );
    const first = await client.vectorStores.create({ name: 'first' });
    expect(await stats(first.id)).toEqual({
      object: 'vector_store.stats',
      id: first.id,
      chunk_count: 0,
      embedding_cache: { hits: 0, misses: 0 },
    });
    await client.vectorStores.files.createAndPoll(first.id, { file_id: file.id });
    const one = await stats(first.id);
    expect(one.chunk_count).toBeGreaterThan(0);
    expect(one.embedding_cache).toEqual({ hits: 0, misses: one.chunk_count });
    // The same file in a second store: every chunk's embedding is already cached.
    const second = await client.vectorStores.create({ name: 'second' });
    await client.vectorStores.files.createAndPoll(second.id, { file_id: file.id });
    expect((await stats(second.id)).embedding_cache).toEqual({ hits: one.chunk_count, misses: 0 });
    const other = (await createKey(app.db.sql, 'stats-other')).key;
    const hidden = await h().request(`/v1/vector_stores/${first.id}/stats`, {
      headers: { authorization: `Bearer ${other}` },
    });
    expect(hidden.status).toBe(404);
  });
});
