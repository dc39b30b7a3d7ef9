import { createHash } from 'node:crypto';
import { createKey } from '@vsdb/core/auth/keys';
import { createLogger } from '@vsdb/core/logger';
import type { Hono } from 'hono';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppEnv, createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';

// Every route x (own key, another project's key, a bad key, no key): only the owner gets in, nobody else
// learns that the resource exists or changes it; keys are stored hashed and never appear in logs or bodies.

const ENV_KEY = 'sk-env-isolation-0123456789';
const BAD_KEY = 'sk-bad-isolation-9876543210';

let app: TestApp;
let h: Hono<AppEnv>;
let keyA: string;
let keyB: string;
const A: Record<string, string> = {};
let storeB: string;
const lines: string[] = [];
const bodies: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: ENV_KEY, MAX_JSON_BODY_BYTES: '4096', LOG_LEVEL: 'debug' });
  app.deps.logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
  h = createApp(app.deps);
  keyA = (await createKey(app.db.sql, 'tenant-a')).key;
  keyB = (await createKey(app.db.sql, 'tenant-b')).key;
  const a = app.client(keyA);
  const store = await a.vectorStores.create({ name: 'secret', metadata: { owner: 'a' } });
  const file = await a.files.create({
    file: await toFile(Buffer.from('the vault code is 1234'), 'vault.txt'),
    purpose: 'assistants',
  });
  await a.vectorStores.files.createAndPoll(store.id, { file_id: file.id, attributes: { level: 'top' } });
  const batch = await a.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: [file.id] });
  const upload = await call('POST', '/v1/uploads', keyA, {
    filename: 'up.txt',
    purpose: 'assistants',
    bytes: 5,
    mime_type: 'text/plain',
  });
  Object.assign(A, {
    vector_store_id: store.id,
    file_id: file.id,
    batch_id: batch.id,
    upload_id: ((await upload.json()) as { id: string }).id,
  });
  storeB = (await app.client(keyB).vectorStores.create({ name: 'b' })).id;
});
afterAll(() => app?.close());

function multipart(field: string, filename: string, text: string): { body: Uint8Array; type: string } {
  const b = 'iso-boundary';
  const body = [
    `--${b}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n`,
    `--${b}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: text/plain\r\n\r\n${text}\r\n`,
    `--${b}--\r\n`,
  ].join('');
  return { body: new TextEncoder().encode(body), type: `multipart/form-data; boundary=${b}` };
}

/** A request with the given key (or none); `body` is JSON unless it is a prepared multipart form. */
async function call(
  method: string,
  path: string,
  key: string | undefined,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  let payload: BodyInit | undefined;
  if (
    body &&
    typeof body === 'object' &&
    'type' in body &&
    (body as { body?: unknown }).body instanceof Uint8Array
  ) {
    const form = body as { body: Uint8Array; type: string };
    headers['content-type'] = form.type;
    payload = form.body as BodyInit;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await h.request(path, { method, headers, body: payload });
  bodies.push(await res.clone().text());
  return res;
}

/** A valid request body for each route, so that only the key decides the answer. */
function bodyFor(method: string, path: string): unknown {
  const bodiesByRoute: Record<string, () => unknown> = {
    'POST /v1/vector_stores': () => ({ name: 'made-by-caller' }),
    'POST /v1/vector_stores/:vector_store_id': () => ({ name: 'renamed', metadata: { owner: 'intruder' } }),
    'POST /v1/vector_stores/:vector_store_id/files': () => ({ file_id: A.file_id }),
    'POST /v1/vector_stores/:vector_store_id/files/:file_id': () => ({ attributes: { level: 'none' } }),
    'POST /v1/vector_stores/:vector_store_id/file_batches': () => ({ file_ids: [A.file_id] }),
    'POST /v1/vector_stores/:vector_store_id/search': () => ({ query: 'vault code' }),
    'POST /v1/search': () => ({ query: 'vault code', vector_store_ids: [A.vector_store_id] }),
    'POST /v1/files': () => multipart('file', 'f.txt', 'hello'),
    'POST /v1/embeddings': () => ({ input: 'hello', model: 'text-embedding-3-small' }),
    'POST /v1/uploads': () => ({
      filename: 'u.txt',
      purpose: 'assistants',
      bytes: 5,
      mime_type: 'text/plain',
    }),
    'POST /v1/uploads/:upload_id/parts': () => multipart('data', 'blob', 'hello'),
    'POST /v1/uploads/:upload_id/complete': () => ({ part_ids: ['part_nope'] }),
  };
  return bodiesByRoute[`${method} ${path}`]?.() ?? (method === 'POST' ? {} : undefined);
}

interface Route {
  method: string;
  path: string;
}

function protectedRoutes(): Route[] {
  const seen = new Set<string>();
  return h.routes
    .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
    .filter((r) => r.path.startsWith('/v1/') || r.path === '/metrics')
    .filter((r) => !seen.has(`${r.method} ${r.path}`) && seen.add(`${r.method} ${r.path}`))
    .map((r) => ({ method: r.method, path: r.path }));
}

const fill = (path: string) => path.replace(/:([a-z_]+)/g, (_, name: string) => A[name] ?? 'x');

async function expectError(res: Response, status: number, code: string, what: string) {
  const text = await res.text();
  expect(res.status, `${what}: ${text}`).toBe(status);
  expect(JSON.parse(text), what).toMatchObject({
    error: { code, type: expect.any(String), message: expect.any(String) },
  });
}

async function snapshotA() {
  const a = app.client(keyA);
  const store = await a.vectorStores.retrieve(A.vector_store_id!);
  const file = await a.vectorStores.files.retrieve(A.file_id!, { vector_store_id: A.vector_store_id! });
  const content = Buffer.from(await (await a.files.content(A.file_id!)).arrayBuffer()).toString();
  const [u] = await app.db.sql`SELECT status FROM uploads WHERE id = ${A.upload_id!}`;
  return {
    name: store.name,
    metadata: store.metadata,
    counts: store.file_counts,
    attributes: file.attributes,
    status: file.status,
    content,
    upload: u?.status,
  };
}

describe('the isolation matrix: every route x every kind of caller', () => {
  it('covers the routes that hold tenant data', () => {
    const all = protectedRoutes().map((r) => `${r.method} ${r.path}`);
    expect(all.length).toBeGreaterThanOrEqual(20);
    expect(all).toContain('DELETE /v1/files/:file_id');
    expect(all).toContain('POST /v1/vector_stores/:vector_store_id/search');
  });

  it('no key: 401 missing_api_key everywhere', async () => {
    for (const r of protectedRoutes()) {
      await expectError(
        await call(r.method, fill(r.path), undefined, bodyFor(r.method, r.path)),
        401,
        'missing_api_key',
        `${r.method} ${r.path}`,
      );
    }
  });

  it('a bad key: 401 invalid_api_key everywhere, through either header', async () => {
    for (const r of protectedRoutes()) {
      const what = `${r.method} ${r.path}`;
      await expectError(
        await call(r.method, fill(r.path), BAD_KEY, bodyFor(r.method, r.path)),
        401,
        'invalid_api_key',
        what,
      );
      const viaHeader = await h.request(fill(r.path), {
        method: r.method,
        headers: { 'x-api-key': BAD_KEY },
      });
      await expectError(viaHeader, 401, 'invalid_api_key', `${what} (X-API-Key)`);
      // A revoked-looking or oversized key is just as unknown.
      await expectError(
        await call(r.method, fill(r.path), 'x'.repeat(600)),
        401,
        'invalid_api_key',
        `${what} (long key)`,
      );
    }
  });

  it("another project's key: 404 on every route that names a resource of A, and nothing changes", async () => {
    const before = await snapshotA();
    for (const r of protectedRoutes()) {
      const what = `${r.method} ${r.path} as B`;
      const res = await call(r.method, fill(r.path), keyB, bodyFor(r.method, r.path));
      if (r.path.includes(':') || r.path === '/v1/search') {
        await expectError(res, 404, 'not_found', what);
      } else {
        expect(res.status, `${what}: ${await res.clone().text()}`).toBeLessThan(300);
        const text = await res.text();
        for (const id of Object.values(A)) expect(text, what).not.toContain(id);
      }
    }
    // B's own store cannot take A's file, alone or in a batch, nor search A's store beside its own.
    for (const [method, path, body] of [
      ['POST', `/v1/vector_stores/${storeB}/files`, { file_id: A.file_id }],
      ['POST', `/v1/vector_stores/${storeB}/file_batches`, { file_ids: [A.file_id] }],
      ['POST', `/v1/vector_stores/${storeB}/file_batches`, { files: [{ file_id: A.file_id }] }],
      ['POST', '/v1/vector_stores', { name: 'grab', file_ids: [A.file_id] }],
      ['POST', '/v1/search', { query: 'vault', vector_store_ids: [storeB, A.vector_store_id] }],
      ['GET', `/v1/vector_stores/${storeB}/files?after=${A.file_id}`, undefined],
      ['GET', `/v1/vector_stores?after=${A.vector_store_id}`, undefined],
      ['GET', `/v1/files?after=${A.file_id}`, undefined],
    ] as const) {
      const res = await call(method, path, keyB, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(await snapshotA()).toEqual(before);
    const [left] = await app.db
      .sql`SELECT count(*)::int AS n FROM vector_store_files WHERE file_id = ${A.file_id!}`;
    expect(left!.n).toBe(1);
  });

  it('the default project (API_KEYS) is a project like any other', async () => {
    await expectError(
      await call('GET', `/v1/vector_stores/${A.vector_store_id}`, ENV_KEY),
      404,
      'not_found',
      'env key',
    );
    await expectError(
      await call('GET', `/v1/files/${A.file_id}/content`, ENV_KEY),
      404,
      'not_found',
      'env key',
    );
  });

  it('own key: every route answers without an auth or not-found error (deletes last)', async () => {
    const routes = protectedRoutes();
    const params = (r: Route) => r.path.split(':').length;
    const deletes = routes.filter((r) => r.method === 'DELETE').sort((a, b) => params(b) - params(a));
    const order = [...routes.filter((r) => r.method !== 'DELETE'), ...deletes];
    for (const r of order) {
      const res = await call(r.method, fill(r.path), keyA, bodyFor(r.method, r.path));
      const text = await res.text();
      expect([401, 403, 404], `${r.method} ${r.path} as A: ${res.status} ${text}`).not.toContain(res.status);
      expect(res.status, `${r.method} ${r.path}: ${text}`).toBeLessThan(500);
      if (!r.path.endsWith('/complete'))
        expect(res.status, `${r.method} ${r.path}: ${text}`).toBeLessThan(300);
    }
  });
});

describe('secrets', () => {
  it('stores keys only as their SHA-256', async () => {
    const rows = await app.db.sql`SELECT * FROM api_keys`;
    const dump = JSON.stringify(rows);
    for (const key of [ENV_KEY, keyA, keyB]) {
      expect(dump).not.toContain(key);
      expect(dump).toContain(createHash('sha256').update(key).digest('hex'));
      expect(dump).not.toContain(key.slice(0, 12));
    }
  });

  it('never writes a key into a log line or a response body', async () => {
    expect(lines.length).toBeGreaterThan(50);
    expect(bodies.length).toBeGreaterThan(50);
    for (const key of [ENV_KEY, keyA, keyB, BAD_KEY]) {
      expect(lines.find((l) => l.includes(key))).toBeUndefined();
      expect(bodies.find((b) => b.includes(key))).toBeUndefined();
    }
  });

  it('puts security headers on every answer, errors and unknown routes included', async () => {
    for (const [path, key] of [
      ['/health', undefined],
      ['/v1/vector_stores', keyA],
      ['/v1/vector_stores', undefined],
      ['/v1/nope', keyA],
      [`/v1/vector_stores/${A.vector_store_id}`, keyB],
    ] as const) {
      const res = await call('GET', path, key);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=/);
    }
  });

  it('bounds JSON bodies, declared or streamed, before reading them whole', async () => {
    const big = JSON.stringify({ name: 'x'.repeat(10_000) });
    const declared = await fetch(`${app.url}/v1/vector_stores`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      body: big,
    });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // An endless body: the server must stop it at the bound, not read it forever.
        sent += 1024;
        controller.enqueue(
          new TextEncoder().encode(sent === 1024 ? `{"name":"${'y'.repeat(1013)}` : 'y'.repeat(1024)),
        );
        if (sent > 64 * 1024 * 1024) controller.close();
      },
    });
    const streamed = await fetch(`${app.url}/v1/vector_stores`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keyA}`, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });
});
