import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { type MaiaClient, maiaClient } from './maia-client.ts';

// Replays of MAIA VectorDB's clients (examples/setup_knowledge_base.py, examples/maia_tool.py,
// tests/integration/*) against /maia; numbers refer to docs/MAIA.md.
const KEY = 'maia-key';
let app: TestApp;
let maia: MaiaClient;
type Obj = Record<string, unknown>;

beforeAll(async () => {
  app = await startTestApp({
    API_KEYS: KEY,
    MAX_FILE_SIZE_BYTES: '300000',
    CORS_ORIGINS: 'https://ui.example',
  });
  maia = maiaClient(app.url, { 'X-API-Key': KEY });
});
afterAll(() => app?.close());

const newStore = async (name = 'test-store') => {
  const r = await maia.json('/v1/vector_stores', { name });
  expect(r.status).toBe(201);
  return r.body.id as string;
};

describe('MAIA service routes', () => {
  it('#1 /health needs no key and answers exactly MAIA’s fields', async () => {
    const r = await maiaClient(app.url).get('/health');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      status: 'ok',
      version: expect.any(String),
      database: { status: 'ok', detail: null },
      openai_api_key_set: false,
    });
  });

  it('#2 /metrics needs no key and is Prometheus text', async () => {
    const r = await maiaClient(app.url).get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(r.body).toMatch(/http_requests_total/);
    expect(r.body).toMatch(/http_request_duration_seconds/);
  });

  it('#3 /docs, /redoc and /openapi.json describe this dialect', async () => {
    const open = maiaClient(app.url);
    const spec = await open.get<{ openapi: string; paths: Record<string, Obj> }>('/openapi.json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/health', '/v1/vector_stores/{vector_store_id}/query', '/v1/embeddings']),
    );
    expect(spec.body.paths['/v1/vector_stores']!.post).toMatchObject({ responses: { 201: {} } });
    // Built from the schemas that validate the requests: MAIA's SearchRequest fields, its 422 and envelope.
    const search = spec.body.paths['/v1/vector_stores/{vector_store_id}/search']!.post as {
      requestBody: { content: { 'application/json': { schema: { properties: Obj; required: string[] } } } };
      responses: Obj;
    };
    const request = search.requestBody.content['application/json'].schema;
    expect(Object.keys(request.properties)).toEqual([
      'query',
      'query_embedding',
      'max_results',
      'filter',
      'score_threshold',
      'search_mode',
      'ranking_weights',
      'half_life_days',
      'mmr_lambda',
    ]);
    expect(request.required).toEqual(['query']);
    expect(Object.keys(search.responses)).toEqual(['200', '422', 'default']);
    // FastAPI's operation ids and summaries (from MAIA's function names), so generated clients match.
    expect(search).toMatchObject({
      operationId: 'search_v1_vector_stores__vector_store_id__search_post',
      summary: 'Search',
      tags: ['search'],
    });
    expect(spec.body.paths['/v1/vector_stores/{vector_store_id}/files/{file_id}']!.delete).toMatchObject({
      operationId: 'delete_file_v1_vector_stores__vector_store_id__files__file_id__delete',
      summary: 'Delete File',
    });
    const components = (spec.body as unknown as { components: { schemas: { Error: Obj } } }).components;
    expect(components.schemas.Error).toMatchObject({
      properties: { error: { properties: { code: { type: 'integer' } } } },
    });
    expect((await open.get('/docs')).body).toMatch(/swagger-ui/);
    expect((await open.get('/redoc')).body).toMatch(/redoc/);
  });

  it('#4 #8 a missing or wrong X-API-Key is 401 in MAIA’s envelope', async () => {
    for (const client of [maiaClient(app.url), maiaClient(app.url, { 'X-API-Key': 'wrong' })]) {
      const r = await client.get('/v1/vector_stores');
      expect(r.status).toBe(401);
      expect(r.body).toEqual({
        error: { message: 'Invalid or missing API key', type: 'authentication_error', code: 401 },
      });
    }
  });

  it('#5 echoes a clean X-Request-ID and makes one otherwise', async () => {
    const echoed = await maia.raw('GET', '/health', { headers: { 'X-Request-ID': 'abc-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('abc-123');
    const long = await maia.raw('GET', '/health', { headers: { 'X-Request-ID': `é${'x'.repeat(200)}` } });
    expect(long.headers.get('x-request-id')).toBe('x'.repeat(127));
    const fresh = await maia.get('/health');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('#6 CORS allows the configured origin with credentials', async () => {
    const pre = await maia.raw('OPTIONS', '/v1/vector_stores', {
      headers: { Origin: 'https://ui.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://ui.example');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await maia.raw('GET', '/health', { headers: { Origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('#9 #10 unknown routes, wrong methods and invalid bodies answer as FastAPI does', async () => {
    expect(await maia.get('/v1/nothing')).toMatchObject({
      status: 404,
      body: { error: { message: 'Not Found', type: 'http_error', code: 404 } },
    });
    const put = await maia.raw('PUT', '/v1/vector_stores');
    expect(put).toMatchObject({ status: 405, body: { error: { type: 'http_error', code: 405 } } });
    expect(put.headers.get('allow')).toBe('POST, GET, HEAD');
    const r = await maia.json('/v1/vector_stores', { metadata: {} });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error: { type: 'validation_error', code: 422 } });
    expect((r.body.error as Obj).message).toMatch(/^body -> name: /);
    const bad = await maia.raw('POST', '/v1/vector_stores', {
      body: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(bad.status).toBe(422);
  });

  it('#52 /v1/embeddings in MAIA’s form', async () => {
    const r = await maia.json<{ data: number[][] }>('/v1/embeddings', { input: ['hello', 'world'] });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['data']);
    expect(r.body.data).toHaveLength(2);
    expect(r.body.data[0]).toHaveLength(app.config.EMBEDDING_DIMENSIONS);
    expect((await maia.json('/v1/embeddings', { input: [] })).status).toBe(422);
    expect((await maia.json('/v1/embeddings', { input: Array(65).fill('x') })).status).toBe(422);
    expect((await maia.json('/v1/embeddings', {})).status).toBe(422);
  });
});

describe('MAIA vector stores', () => {
  it('#11 #12 #13 create answers 201 in MAIA’s shape, metadata of any JSON kept', async () => {
    const metadata = { env: 'test', version: 2, live: true, nested: { a: [1, null] } };
    const r = await maia.json('/v1/vector_stores', { name: 'meta-store', metadata });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.any(String),
      object: 'vector_store',
      name: 'meta-store',
      status: 'completed',
      file_counts: { in_progress: 0, completed: 0, cancelled: 0, failed: 0, total: 0 },
      metadata,
      created_at: expect.any(Number),
      updated_at: expect.any(Number),
      expires_at: null,
    });
    const expiring = await maia.json('/v1/vector_stores', {
      name: 'x',
      expires_after: { anchor: 'last_active_at', days: 7 },
    });
    expect(expiring.body.expires_at).toBeGreaterThan(Date.now() / 1000 + 6 * 86400);
    expect((await maia.json('/v1/vector_stores', { name: '' })).status).toBe(422);
  });

  it('#14 lists with limit/offset paging', async () => {
    const fresh = maiaClient(app.url, { 'X-API-Key': KEY });
    for (let i = 0; i < 3; i++) await fresh.json('/v1/vector_stores', { name: `page-store-${i}` });
    const page = await fresh.get<{ data: Obj[]; has_more: boolean } & Obj>('/v1/vector_stores', {
      limit: 2,
      offset: 0,
    });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ object: 'list', has_more: true });
    expect(page.body.data).toHaveLength(2);
    expect(page.body.first_id).toBe(page.body.data[0]!.id);
    const next = await fresh.get<{ data: Obj[] }>('/v1/vector_stores', { limit: 2, offset: 2 });
    expect(next.body.data.map((s) => s.id)).not.toContain(page.body.data[0]!.id);
    const asc = await fresh.get<{ data: Obj[] }>('/v1/vector_stores', { limit: 100, order: 'asc' });
    const times = asc.body.data.map((s) => s.created_at as number);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await fresh.get('/v1/vector_stores', { limit: 101 })).status).toBe(422);
  });

  it('#15 #16 get, delete, and 404 for what is gone', async () => {
    const id = await newStore('get-me');
    expect((await maia.get(`/v1/vector_stores/${id}`)).body).toMatchObject({ id, name: 'get-me' });
    expect(await maia.delete(`/v1/vector_stores/${id}`)).toMatchObject({
      status: 200,
      body: { id, object: 'vector_store.deleted', deleted: true },
    });
    expect(await maia.get(`/v1/vector_stores/${id}`)).toMatchObject({
      status: 404,
      body: { error: { message: 'Vector store not found', type: 'not_found', code: 404 } },
    });
    expect((await maia.delete(`/v1/vector_stores/${id}`)).status).toBe(404);
  });

  it('shares its data with the OpenAI mount, both ways', async () => {
    const id = await newStore('shared');
    const openai = app.client(KEY);
    expect((await openai.vectorStores.retrieve(id)).name).toBe('shared');
    const made = await openai.vectorStores.create({ name: 'from-openai' });
    expect((await maia.get(`/v1/vector_stores/${made.id}`)).body).toMatchObject({ name: 'from-openai' });
    await maia.form(`/v1/vector_stores/${made.id}/files`, { text: 'Shared across both mounts.' });
    expect((await openai.vectorStores.files.list(made.id)).data).toHaveLength(1);
  });
});
