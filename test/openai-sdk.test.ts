import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
let client: OpenAI;

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-test-a' });
  client = app.client();
});
afterAll(() => app?.close());

const text = (name: string, body: string) => toFile(Buffer.from(body), name, { type: 'text/plain' });

describe('the official openai SDK against this server', () => {
  it('manages vector stores', async () => {
    const store = await client.vectorStores.create({
      name: 'docs',
      description: 'team docs',
      metadata: { team: 'search' },
      expires_after: { anchor: 'last_active_at', days: 7 },
    });
    expect(store).toMatchObject({
      object: 'vector_store',
      name: 'docs',
      status: 'completed',
      usage_bytes: 0,
      metadata: { team: 'search' },
      expires_after: { anchor: 'last_active_at', days: 7 },
      file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 },
    });
    expect(store.id).toMatch(/^vs_/);
    expect(store.expires_at! - store.last_active_at!).toBe(7 * 86400);

    const got = await client.vectorStores.retrieve(store.id);
    expect(got.id).toBe(store.id);
    const updated = await client.vectorStores.update(store.id, { name: 'renamed', expires_after: null });
    expect(updated).toMatchObject({
      name: 'renamed',
      expires_at: null,
      metadata: { team: 'search' },
    });
    expect(updated).not.toHaveProperty('expires_after'); // absent, not null, as the spec types it

    const deleted = await client.vectorStores.delete(store.id);
    expect(deleted).toEqual({ id: store.id, object: 'vector_store.deleted', deleted: true });
    await expect(client.vectorStores.retrieve(store.id)).rejects.toMatchObject({ status: 404 });
  });

  it('creates a store with file_ids and a chunking strategy', async () => {
    const f = await client.files.create({
      file: await text('seed.txt', 'seed words for a new store'),
      purpose: 'assistants',
    });
    const store = await client.vectorStores.create({
      name: 'seeded',
      file_ids: [f.id],
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } },
    });
    expect(store.file_counts).toMatchObject({ completed: 1, total: 1 });
    const vsf = await client.vectorStores.files.retrieve(f.id, { vector_store_id: store.id });
    expect(vsf.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 },
    });
    await expect(client.vectorStores.create({ file_ids: ['file-missing'] })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('pages through vector stores in both orders and auto-paginates', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await client.vectorStores.create({ name: `page-${i}` })).id);
    const first = await client.vectorStores.list({ limit: 3, order: 'asc' });
    expect(first.data).toHaveLength(3);
    expect(first.has_more).toBe(true);
    const seen: string[] = [];
    for await (const s of client.vectorStores.list({ limit: 2, order: 'asc' })) seen.push(s.id);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
    const desc: string[] = [];
    for await (const s of client.vectorStores.list({ limit: 3 })) desc.push(s.id);
    expect(desc.filter((id) => ids.includes(id))).toEqual([...ids].reverse());
    const before = await client.vectorStores.list({ limit: 2, order: 'asc', before: ids[4]! });
    expect(before.data.map((s) => s.id)).toEqual([ids[2], ids[3]]);
  });

  it('uploads, lists, reads back and deletes files', async () => {
    const body = 'exact bytes \u00e9\u4e2d\n'.repeat(50);
    const file = await client.files.create({ file: await text('notes.txt', body), purpose: 'assistants' });
    expect(file).toMatchObject({
      object: 'file',
      filename: 'notes.txt',
      purpose: 'assistants',
      bytes: Buffer.byteLength(body),
    });
    expect(file.id).toMatch(/^file-/);
    expect((await client.files.retrieve(file.id)).bytes).toBe(file.bytes);
    const content = await client.files.content(file.id);
    expect(Buffer.from(await content.arrayBuffer()).toString()).toBe(body);
    const listed: string[] = [];
    for await (const f of client.files.list({ purpose: 'assistants' })) listed.push(f.id);
    expect(listed).toContain(file.id);
    expect((await client.files.list({ purpose: 'batch' })).data.map((f) => f.id)).not.toContain(file.id);
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });

  it('attaches, polls, updates, reads and detaches vector store files', async () => {
    const store = await client.vectorStores.create({ name: 'vsf' });
    const file = await client.files.create({
      file: await text('guide.md', '# Guide\n\nThe launch code is ALPHA-7.\n\nUse it wisely.'),
      purpose: 'assistants',
    });
    const attached = await client.vectorStores.files.createAndPoll(store.id, {
      file_id: file.id,
      attributes: { lang: 'en', version: 2, public: true },
    });
    expect(attached).toMatchObject({
      id: file.id,
      object: 'vector_store.file',
      vector_store_id: store.id,
      status: 'completed',
      last_error: null,
      attributes: { lang: 'en', version: 2, public: true },
      chunking_strategy: {
        type: 'static',
        static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 },
      },
    });
    expect(attached.usage_bytes).toBeGreaterThan(0);

    // Attaching again does not duplicate it.
    await client.vectorStores.files.create(store.id, { file_id: file.id });
    const s = await client.vectorStores.retrieve(store.id);
    expect(s.file_counts).toEqual({ in_progress: 0, completed: 1, failed: 0, cancelled: 0, total: 1 });
    expect(s.usage_bytes).toBe(attached.usage_bytes);

    const content = await client.vectorStores.files.content(file.id, { vector_store_id: store.id });
    const texts: string[] = [];
    for await (const part of content) texts.push(part.text!);
    expect(texts.join('')).toContain('ALPHA-7');

    const updated = await client.vectorStores.files.update(file.id, {
      vector_store_id: store.id,
      attributes: { lang: 'de' },
    });
    expect(updated.attributes).toEqual({ lang: 'de' });
    const [chunkAttrs] = await app.db.sql`SELECT DISTINCT attributes FROM chunks WHERE file_id = ${file.id}`;
    expect(chunkAttrs?.attributes).toEqual({ lang: 'de' });

    const list = await client.vectorStores.files.list(store.id, { filter: 'completed' });
    expect(list.data.map((f) => f.id)).toEqual([file.id]);
    expect((await client.vectorStores.files.list(store.id, { filter: 'failed' })).data).toEqual([]);

    const del = await client.vectorStores.files.delete(file.id, { vector_store_id: store.id });
    expect(del).toEqual({ id: file.id, object: 'vector_store.file.deleted', deleted: true });
    expect((await client.files.retrieve(file.id)).id).toBe(file.id);
    const [left] = await app.db.sql`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${file.id}`;
    expect(left?.n).toBe(0);
    expect((await client.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
  });

  it('uploadAndPoll and a failing file', async () => {
    const store = await client.vectorStores.create({ name: 'upload' });
    const ok = await client.vectorStores.files.uploadAndPoll(store.id, await text('a.txt', 'hello world'));
    expect(ok.status).toBe('completed');
    const bad = await client.vectorStores.files.uploadAndPoll(
      store.id,
      await toFile(Buffer.from([0x4d, 0x5a, 0x90, 0x00]), 'tool.exe'),
    );
    expect(bad.status).toBe('failed');
    expect(bad.last_error?.code).toBe('unsupported_file');
    expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({
      completed: 1,
      failed: 1,
      total: 2,
    });
  });

  it('runs file batches: createAndPoll, uploadAndPoll, listFiles, cancel', async () => {
    const store = await client.vectorStores.create({ name: 'batches' });
    const files = await Promise.all(
      [1, 2, 3].map(async (i) =>
        client.files.create({
          file: await text(`b${i}.txt`, `batch file number ${i}`),
          purpose: 'assistants',
        }),
      ),
    );
    const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, {
      file_ids: files.map((f) => f.id),
      attributes: { source: 'batch' },
    });
    expect(batch).toMatchObject({
      object: 'vector_store.files_batch',
      vector_store_id: store.id,
      status: 'completed',
      file_counts: { completed: 3, total: 3 },
    });
    expect(batch.id).toMatch(/^vsfb_/);
    const listed = await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
    expect(listed.data.map((f) => f.id).sort()).toEqual(files.map((f) => f.id).sort());
    expect(listed.data.every((f) => f.attributes?.source === 'batch')).toBe(true);

    const uploaded = await client.vectorStores.fileBatches.uploadAndPoll(store.id, {
      files: [await text('u1.md', 'first upload'), await text('u2.md', 'second upload')],
    });
    expect(uploaded.file_counts).toMatchObject({ completed: 2, total: 2 });

    const perFile = await client.vectorStores.fileBatches.create(store.id, {
      files: [{ file_id: files[0]!.id, attributes: { only: 'this' } }],
    });
    expect(perFile.status).toMatch(/completed|in_progress/);
    const retrieved = await client.vectorStores.fileBatches.retrieve(perFile.id, {
      vector_store_id: store.id,
    });
    expect(retrieved.id).toBe(perFile.id);
    const cancelled = await client.vectorStores.fileBatches.cancel(perFile.id, { vector_store_id: store.id });
    expect(cancelled.status).toBe('cancelled');

    await expect(
      client.vectorStores.fileBatches.create(store.id, {
        file_ids: [files[0]!.id],
        files: [{ file_id: files[1]!.id }],
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('creates embeddings as floats and as base64', async () => {
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a cat', 'a dog'],
      encoding_format: 'float',
    });
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0]!.embedding).toHaveLength(app.config.EMBEDDING_DIMENSIONS);
    const b64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'a cat' });
    expect(b64.data[0]!.embedding).toHaveLength(app.config.EMBEDDING_DIMENSIONS);
    expect(b64.data[0]!.embedding[0]).toBeCloseTo(floats.data[0]!.embedding[0]!, 5);
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    await expect(client.embeddings.create({ model: 'x', input: '' })).rejects.toMatchObject({ status: 400 });
    await expect(
      client.embeddings.create({ model: 'x', input: Array.from({ length: 2049 }, () => 'a') }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('answers errors in the OpenAI envelope', async () => {
    const bad = await client.vectorStores
      .create({ name: 'x', metadata: { k: 'v'.repeat(513) } })
      .catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'metadata.k',
      code: 'invalid_request',
    });
    const res = await fetch(`${app.url}/v1/vector_stores`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-test-a', 'content-type': 'application/json' },
      body: '{"name":',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
    const wrong = await fetch(`${app.url}/v1/vector_stores`, {
      method: 'PUT',
      headers: { authorization: 'Bearer sk-test-a' },
    });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, GET, HEAD');
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('method_not_allowed');
    const unknown = await fetch(`${app.url}/v1/nope`, { headers: { authorization: 'Bearer sk-test-a' } });
    expect(unknown.status).toBe(404);
    const noKey = await fetch(`${app.url}/v1/vector_stores`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ error: { type: 'authentication_error' } });
    await expect(app.client('sk-wrong').vectorStores.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });
});
