import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
let store: string;
let file: string;
const auth = { authorization: 'Bearer sk-limits' };

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-limits' });
  const client = app.client();
  store = (await client.vectorStores.create({ name: 'limits' })).id;
  file = (await client.files.create({ file: new File(['limits'], 'l.txt'), purpose: 'assistants' })).id;
});
afterAll(() => app?.close());

const keys = (n: number, value: unknown = 'v') =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, value]));
const staticChunking = (max: number, overlap: number) => ({
  type: 'static',
  static: { max_chunk_size_tokens: max, chunk_overlap_tokens: overlap },
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${app.url}${path}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    body: (await res.json()) as { error?: { param: string | null; type: string } },
  };
}

describe('every documented bound is enforced with a 400 naming the field', () => {
  const cases: [string, () => string, () => unknown, string | null][] = [
    ['17 metadata keys', () => '/v1/vector_stores', () => ({ metadata: keys(17) }), 'metadata'],
    [
      'a 65-char metadata key',
      () => '/v1/vector_stores',
      () => ({ metadata: { ['k'.repeat(65)]: 'v' } }),
      null,
    ],
    [
      'a 513-char metadata value',
      () => '/v1/vector_stores',
      () => ({ metadata: { k: 'v'.repeat(513) } }),
      'metadata.k',
    ],
    ['a non-string metadata value', () => '/v1/vector_stores', () => ({ metadata: { k: 1 } }), 'metadata.k'],
    [
      '501 file_ids',
      () => '/v1/vector_stores',
      () => ({ file_ids: Array.from({ length: 501 }, (_, i) => `file-${i}`) }),
      'file_ids',
    ],
    [
      'expires_after 0 days',
      () => '/v1/vector_stores',
      () => ({ expires_after: { anchor: 'last_active_at', days: 0 } }),
      'expires_after.days',
    ],
    [
      'expires_after 366 days',
      () => '/v1/vector_stores',
      () => ({ expires_after: { anchor: 'last_active_at', days: 366 } }),
      'expires_after.days',
    ],
    [
      'expires_after bad anchor',
      () => '/v1/vector_stores',
      () => ({ expires_after: { anchor: 'created_at', days: 1 } }),
      'expires_after.anchor',
    ],
    [
      'chunk size 99',
      () => '/v1/vector_stores',
      () => ({ chunking_strategy: staticChunking(99, 0) }),
      'chunking_strategy.static.max_chunk_size_tokens',
    ],
    [
      'chunk size 4097',
      () => '/v1/vector_stores',
      () => ({ chunking_strategy: staticChunking(4097, 0) }),
      'chunking_strategy.static.max_chunk_size_tokens',
    ],
    [
      'overlap over half',
      () => '/v1/vector_stores',
      () => ({ chunking_strategy: staticChunking(200, 101) }),
      'chunking_strategy.static.chunk_overlap_tokens',
    ],
    [
      'unknown chunking type',
      () => '/v1/vector_stores',
      () => ({ chunking_strategy: { type: 'semantic' } }),
      'chunking_strategy.type',
    ],
    [
      '17 attributes',
      () => `/v1/vector_stores/${store}/files`,
      () => ({ file_id: file, attributes: keys(17) }),
      'attributes',
    ],
    [
      'an object attribute',
      () => `/v1/vector_stores/${store}/files`,
      () => ({ file_id: file, attributes: { k: { a: 1 } } }),
      'attributes.k',
    ],
    [
      'a 513-char attribute',
      () => `/v1/vector_stores/${store}/files`,
      () => ({ file_id: file, attributes: { k: 'x'.repeat(513) } }),
      'attributes.k',
    ],
    ['no file_id', () => `/v1/vector_stores/${store}/files`, () => ({}), 'file_id'],
    ['an empty batch', () => `/v1/vector_stores/${store}/file_batches`, () => ({ file_ids: [] }), 'file_ids'],
    [
      '2001 batch files',
      () => `/v1/vector_stores/${store}/file_batches`,
      () => ({ file_ids: Array.from({ length: 2001 }, () => file) }),
      'file_ids',
    ],
    [
      'file_ids and files',
      () => `/v1/vector_stores/${store}/file_batches`,
      () => ({ file_ids: [file], files: [{ file_id: file }] }),
      'file_ids',
    ],
    [
      '2049 embedding inputs',
      () => '/v1/embeddings',
      () => ({ model: 'm', input: Array.from({ length: 2049 }, () => 'a') }),
      'input',
    ],
    ['an empty embedding input', () => '/v1/embeddings', () => ({ model: 'm', input: '' }), 'input'],
    [
      'an 8,193-token embedding input',
      () => '/v1/embeddings',
      () => ({ model: 'm', input: 'hello '.repeat(8200) }),
      'input',
    ],
    [
      '300,001 embedding tokens',
      () => '/v1/embeddings',
      () => ({ model: 'm', input: Array.from({ length: 40 }, () => 'hello '.repeat(8000)) }),
      'input',
    ],
    ['no embedding model', () => '/v1/embeddings', () => ({ input: 'a' }), 'model'],
  ];
  it.each(cases)('%s', async (_name, path, body, param) => {
    const res = await post(path(), body());
    expect(res.status).toBe(400);
    expect(res.body.error?.type).toBe('invalid_request_error');
    if (param !== null) expect(res.body.error?.param).toBe(param);
  });

  it('accepts the bounds themselves', async () => {
    expect((await post('/v1/vector_stores', { metadata: keys(16, 'v'.repeat(512)) })).status).toBe(200);
    const ok = await post('/v1/vector_stores', {
      chunking_strategy: staticChunking(4096, 2048),
      expires_after: { anchor: 'last_active_at', days: 365 },
    });
    expect(ok.status).toBe(200);
    expect(
      (await post(`/v1/vector_stores/${store}/files`, { file_id: file, attributes: keys(16, 1.5) })).status,
    ).toBe(200);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['order=up', 'order'],
    ['limit=abc', 'limit'],
  ])('list query %s', async (query, param) => {
    const res = await fetch(`${app.url}/v1/vector_stores?${query}`, { headers: auth });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
  });

  it('bounds file uploads: purpose, expiry, size', async () => {
    const upload = async (fields: Record<string, string>, body = 'x') => {
      const form = new FormData();
      form.append('file', new Blob([body]), 'a.txt');
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      return fetch(`${app.url}/v1/files`, { method: 'POST', headers: auth, body: form });
    };
    expect((await upload({ purpose: 'nonsense' })).status).toBe(400);
    expect((await upload({})).status).toBe(400);
    expect(
      (
        await upload({
          purpose: 'assistants',
          'expires_after[anchor]': 'created_at',
          'expires_after[seconds]': '3599',
        })
      ).status,
    ).toBe(400);
    const ok = await upload({
      purpose: 'user_data',
      'expires_after[anchor]': 'created_at',
      'expires_after[seconds]': '3600',
    });
    expect(ok.status).toBe(200);
    const f = (await ok.json()) as { created_at: number; expires_at: number };
    expect(f.expires_at - f.created_at).toBe(3600);
    const json = await fetch(`${app.url}/v1/files`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
  });

  it('refuses files over MAX_FILE_SIZE_BYTES with 413 while streaming, and JSON bodies over their bound', async () => {
    const small = await startTestApp({
      API_KEYS: 'sk-limits',
      MAX_FILE_SIZE_BYTES: '1000',
      MAX_JSON_BODY_BYTES: '2048',
    });
    try {
      const form = new FormData();
      form.append('purpose', 'assistants');
      form.append('file', new Blob(['y'.repeat(1001)]), 'big.txt');
      const res = await fetch(`${small.url}/v1/files`, { method: 'POST', headers: auth, body: form });
      expect(res.status).toBe(413);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');
      const json = await fetch(`${small.url}/v1/vector_stores`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'n'.repeat(3000) }),
      });
      expect(json.status).toBe(413);
      const [n] = await small.db.sql`SELECT count(*)::int AS n FROM files`;
      expect(n?.n).toBe(0);
    } finally {
      await small.close();
    }
  });
});
