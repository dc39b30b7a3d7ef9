import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
const headers = { 'x-api-key': 'maia-key' };

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'maia-key', MAX_FILE_SIZE_BYTES: '200000' });
});
afterAll(() => app?.close());

async function newStore(): Promise<string> {
  const res = await fetch(`${app.url}/v1/vector_stores`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'maia' }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

describe('MAIA dialect', () => {
  it('uploads a file straight into a store and answers completed for small inputs', async () => {
    const store = await newStore();
    const form = new FormData();
    form.append('file', new Blob(['# Title\n\nMAIA upload body text.']), 'readme.md');
    form.append('attributes', JSON.stringify({ team: 'core', year: 2026 }));
    const res = await fetch(`${app.url}/v1/vector_stores/${store}/files`, {
      method: 'POST',
      headers,
      body: form,
    });
    expect(res.status).toBe(201);
    const vsf = (await res.json()) as { id: string; status: string; attributes: object };
    expect(vsf).toMatchObject({ status: 'completed', attributes: { team: 'core', year: 2026 } });
    const file = await fetch(`${app.url}/v1/files/${vsf.id}`, { headers });
    expect(await file.json()).toMatchObject({ filename: 'readme.md', purpose: 'assistants' });
  });

  it('accepts text with a filename', async () => {
    const store = await newStore();
    const form = new FormData();
    form.append('text', 'Plain text sent as a field.');
    form.append('filename', 'note.txt');
    const res = await fetch(`${app.url}/v1/vector_stores/${store}/files`, {
      method: 'POST',
      headers,
      body: form,
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ status: 'completed' });
  });

  it('refuses unsupported, empty, oversized and malformed uploads with 4xx and keeps nothing', async () => {
    const store = await newStore();
    const post = (form: FormData) =>
      fetch(`${app.url}/v1/vector_stores/${store}/files`, { method: 'POST', headers, body: form });
    const exe = new FormData();
    exe.append('file', new Blob([new Uint8Array([1, 2, 3])]), 'x.exe');
    const r1 = await post(exe);
    expect(r1.status).toBe(400);
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('unsupported_file');

    const empty = new FormData();
    empty.append('file', new Blob(['   \n ']), 'empty.txt');
    const r2 = await post(empty);
    expect(r2.status).toBe(400);
    expect(((await r2.json()) as { error: { code: string } }).error.code).toBe('invalid_file');

    const big = new FormData();
    big.append('file', new Blob(['x'.repeat(300_000)]), 'big.txt');
    const r3 = await post(big);
    expect(r3.status).toBe(413);

    const badAttrs = new FormData();
    badAttrs.append('text', 'hi');
    badAttrs.append('attributes', '{not json');
    const r4 = await post(badAttrs);
    expect(r4.status).toBe(400);
    expect(((await r4.json()) as { error: { param: string } }).error.param).toBe('attributes');

    const nothing = await post(new FormData());
    expect(nothing.status).toBe(400);

    const [counts] = await app.db.sql`SELECT (SELECT count(*) FROM files)::int AS files,
      (SELECT count(*) FROM vector_store_files WHERE vector_store_id = ${store})::int AS vsf`;
    expect(counts?.vsf).toBe(0);
    const left = await app.db.sql`SELECT id FROM files WHERE filename IN ('x.exe', 'empty.txt', 'big.txt')`;
    expect(left).toEqual([]);
  });

  it('serves /health without a key', async () => {
    const res = await fetch(`${app.url}/health`);
    expect(res.status).toBe(200);
  });
});
