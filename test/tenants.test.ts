import { createKey } from '@vsdb/core/auth/keys';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
let keyA: string;
let keyB: string;

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-env-default' });
  keyA = (await createKey(app.db.sql, 'project-a')).key;
  keyB = (await createKey(app.db.sql, 'project-b')).key;
});
afterAll(() => app?.close());

describe('tenant isolation', () => {
  it("project B can neither see, search, change nor delete project A's stores and files", async () => {
    const a = app.client(keyA);
    const b = app.client(keyB);
    const store = await a.vectorStores.create({ name: 'secret' });
    const file = await a.files.create({
      file: await toFile(Buffer.from('the vault code is 1234'), 'v.txt'),
      purpose: 'assistants',
    });
    await a.vectorStores.files.createAndPoll(store.id, { file_id: file.id });

    const notFound = { status: 404 };
    await expect(b.vectorStores.retrieve(store.id)).rejects.toMatchObject(notFound);
    await expect(b.vectorStores.update(store.id, { name: 'mine' })).rejects.toMatchObject(notFound);
    await expect(b.vectorStores.delete(store.id)).rejects.toMatchObject(notFound);
    await expect(b.files.retrieve(file.id)).rejects.toMatchObject(notFound);
    await expect(b.files.content(file.id)).rejects.toMatchObject(notFound);
    await expect(b.files.delete(file.id)).rejects.toMatchObject(notFound);
    await expect(b.vectorStores.files.retrieve(file.id, { vector_store_id: store.id })).rejects.toMatchObject(
      notFound,
    );
    await expect(b.vectorStores.files.list(store.id)).rejects.toMatchObject(notFound);
    await expect(
      b.vectorStores.files.update(file.id, { vector_store_id: store.id, attributes: { x: 'y' } }),
    ).rejects.toMatchObject(notFound);
    await expect(b.vectorStores.files.delete(file.id, { vector_store_id: store.id })).rejects.toMatchObject(
      notFound,
    );
    await expect(b.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] })).rejects.toMatchObject(
      notFound,
    );
    await expect(b.vectorStores.search(store.id, { query: 'vault code' })).rejects.toMatchObject(notFound);

    // B's own store cannot take A's file either.
    const own = await b.vectorStores.create({ name: 'b' });
    await expect(b.vectorStores.files.create(own.id, { file_id: file.id })).rejects.toMatchObject(notFound);
    expect((await b.vectorStores.list()).data.map((s) => s.id)).not.toContain(store.id);
    expect((await b.files.list()).data.map((f) => f.id)).not.toContain(file.id);

    // And A still has everything.
    expect((await a.vectorStores.retrieve(store.id)).file_counts.completed).toBe(1);
    expect((await a.vectorStores.retrieve(store.id)).name).toBe('secret');
  });

  it('accepts X-API-Key as well as Bearer, and refuses revoked keys', async () => {
    const res = await fetch(`${app.url}/v1/vector_stores`, { headers: { 'x-api-key': keyA } });
    expect(res.status).toBe(200);
    const env = await fetch(`${app.url}/v1/vector_stores`, {
      headers: { authorization: 'Bearer sk-env-default' },
    });
    expect(env.status).toBe(200);
    const bad = await fetch(`${app.url}/v1/vector_stores`, { headers: { 'x-api-key': 'nope' } });
    expect(bad.status).toBe(401);
    const body = await bad.text();
    expect(body).not.toContain('nope');
    const [row] = await app.db.sql`SELECT key_hash FROM api_keys WHERE source = 'env'`;
    expect(row!.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
