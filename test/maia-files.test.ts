import { PDFDocument, StandardFonts } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.ts';
import { type MaiaClient, maiaClient } from './maia-client.ts';

// MAIA's uploads as its clients send them; numbers refer to docs/MAIA.md.
let app: TestApp;
let maia: MaiaClient;
type Obj = Record<string, unknown>;

beforeAll(async () => {
  app = await startTestApp({ MAX_FILE_SIZE_BYTES: '300000' });
  maia = maiaClient(app.url);
});
afterAll(() => app?.close());

const newStore = async () =>
  (await maia.json('/v1/vector_stores', { name: 'upload-store' })).body.id as string;
const PYTHON =
  'Python is a high-level, general-purpose programming language. Its design philosophy emphasizes code readability.';

describe('MAIA uploads', () => {
  it('#17 #18 #24 #25 setup_knowledge_base.py: text as an ordinary form, 201, completed, raw_text.txt', async () => {
    const store = await newStore();
    const r = await maia.form(`/v1/vector_stores/${store}/files`, { text: PYTHON });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.any(String),
      object: 'vector_store.file',
      vector_store_id: store,
      filename: 'raw_text.txt',
      status: 'completed',
      bytes: Buffer.byteLength(PYTHON),
      chunk_count: 1,
      content_type: 'text/plain',
      attributes: null,
      purpose: 'assistants',
      created_at: expect.any(Number),
    });
  });

  it('#17 #18 #21 multipart file with a filename override and attributes of any JSON', async () => {
    const store = await newStore();
    const attributes = { department: 'engineering', priority: 2, tags: ['a', 'b'], live: true };
    const r = await maia.files(`/v1/vector_stores/${store}/files`, ['test.txt', PYTHON, 'text/plain'], {
      filename: 'renamed.md',
      attributes: JSON.stringify(attributes),
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ filename: 'renamed.md', content_type: 'text/markdown', attributes });
    const got = await maia.get(`/v1/vector_stores/${store}/files/${r.body.id}`);
    expect(got.body).toEqual(r.body);
  });

  it('#19 a file without an extension is read as text', async () => {
    const store = await newStore();
    const r = await maia.files(`/v1/vector_stores/${store}/files`, [
      'README',
      'Plain words without a suffix.',
    ]);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ filename: 'README', status: 'completed', content_type: 'text/plain' });
    expect(r.body.chunk_count).toBe(1);
  });

  it('#24 a PDF keeps its content type and is chunked', async () => {
    const pdf = await PDFDocument.create();
    const font = await pdf.embedFont(StandardFonts.Helvetica);
    pdf.addPage().drawText('pgvector adds vector similarity search to PostgreSQL.', { x: 50, y: 700, font });
    const store = await newStore();
    const r = await maia.files(`/v1/vector_stores/${store}/files`, [
      'pgvector-guide.pdf',
      await pdf.save(),
      'application/pdf',
    ]);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      filename: 'pgvector-guide.pdf',
      content_type: 'application/pdf',
      status: 'completed',
    });
    expect(r.body.chunk_count as number).toBeGreaterThanOrEqual(1);
  });

  it('#20 #21 #22 #23 refusals in MAIA’s words', async () => {
    const store = await newStore();
    const path = `/v1/vector_stores/${store}/files`;
    const envelope = (status: number, message: string | RegExp, type = 'validation_error') => ({
      status,
      body: { error: { message: expect.stringMatching(message), type, code: status } },
    });
    expect(await maia.files(path, ['x.exe', 'MZ'])).toMatchObject(
      envelope(400, /^Unsupported file format '\.exe'/),
    );
    expect(await maia.form(path, { text: 'hi', attributes: '{not json' })).toMatchObject(
      envelope(400, "Invalid JSON in 'attributes' field."),
    );
    expect(await maia.form(path, { text: 'hi', attributes: '[1,2]' })).toMatchObject(
      envelope(400, "'attributes' must be a JSON object."),
    );
    expect(await maia.files(path, null, {})).toMatchObject(
      envelope(400, "Provide either a file upload or a 'text' field."),
    );
    expect(await maia.raw('POST', path)).toMatchObject(
      envelope(400, "Provide either a file upload or a 'text' field."),
    );
    expect(await maia.files(path, ['big.txt', 'x'.repeat(300_001)])).toMatchObject(
      envelope(413, /./, 'file_too_large'),
    );
    // An urlencoded form is read whole, so it is bounded as a whole (three times the file limit, and some).
    expect(await maia.form(path, { text: 'x'.repeat(3 * 300_000 + 65_537) })).toMatchObject(
      envelope(413, 'Request body is larger than 965536 bytes.', 'file_too_large'),
    );
    expect(await maia.form(`/v1/vector_stores/vs_missing/files`, { text: 'x' })).toMatchObject(
      envelope(404, 'Vector store not found', 'not_found'),
    );
    expect((await maia.get<{ data: Obj[] }>(path)).body.data).toHaveLength(0); // nothing refused was kept
  });

  it('#20 a file that cannot be read is a 400 and, as in MAIA, leaves nothing in the store', async () => {
    const store = await newStore();
    const path = `/v1/vector_stores/${store}/files`;
    const r = await maia.files(path, ['report.pdf', '%PDF-1.4 not really a pdf']);
    expect(r).toMatchObject({ status: 400, body: { error: { type: 'validation_error', code: 400 } } });
    expect((await maia.get<{ data: Obj[] }>(path)).body.data).toEqual([]);
    const counts = (await maia.get<{ file_counts: Obj }>(`/v1/vector_stores/${store}`)).body.file_counts;
    expect(counts).toMatchObject({ failed: 0, total: 0 });
  });

  it('#25 larger than 50 KB: in_progress with chunk_count 0, then completed when polled', async () => {
    const store = await newStore();
    const text = Array.from({ length: 2000 }, (_, i) => `Line ${i} of a long document about search.`).join(
      '\n',
    );
    const r = await maia.files(`/v1/vector_stores/${store}/files`, ['long.txt', text, 'text/plain']);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'in_progress', chunk_count: 0 });
    // Both mounts share the data: the SDK's poll waits for the worker, MAIA's GET then reads the result.
    await app.client().vectorStores.files.poll(store, r.body.id as string, { pollIntervalMs: 50 });
    const file = (await maia.get(`/v1/vector_stores/${store}/files/${r.body.id}`)).body;
    expect(file.status).toBe('completed');
    expect(file.chunk_count as number).toBeGreaterThan(1);
  });

  it('#27 #28 #29 list, get, delete; MAIA’s 800/200 chunking; another store’s file is 404', async () => {
    const store = await newStore();
    const other = await newStore();
    const a = (await maia.form(`/v1/vector_stores/${store}/files`, { text: 'first file', filename: 'a.txt' }))
      .body;
    await maia.form(`/v1/vector_stores/${store}/files`, { text: 'second file', filename: 'b.txt' });
    const list = await maia.get<{ data: Obj[] } & Obj>(`/v1/vector_stores/${store}/files`, {
      limit: 1,
      offset: 1,
    });
    expect(list.body).toMatchObject({ object: 'list', has_more: false });
    expect(list.body.data.map((f) => f.filename)).toEqual(['a.txt']);
    const vsf = await app.client().vectorStores.files.retrieve(a.id as string, { vector_store_id: store });
    expect(vsf.chunking_strategy).toEqual({
      type: 'static',
      static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 200 },
    });
    expect((await maia.get(`/v1/vector_stores/${other}/files/${a.id}`)).body).toEqual({
      error: { message: 'File not found', type: 'not_found', code: 404 },
    });
    expect(await maia.delete(`/v1/vector_stores/${store}/files/${a.id}`)).toMatchObject({
      status: 200,
      body: { id: a.id, object: 'vector_store.file.deleted', deleted: true },
    });
    expect((await maia.get(`/v1/vector_stores/${store}/files/${a.id}`)).status).toBe(404);
    expect((await maia.delete(`/v1/vector_stores/${store}/files/${a.id}`)).status).toBe(404);
  });
});

describe('MAIA upload whose processing fails', () => {
  let fake: FakeOpenAI;
  let failing: TestApp;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    failing = await startTestApp({
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: fake.baseURL,
      EMBEDDING_MAX_RETRIES: '0',
    });
  });
  afterAll(async () => {
    await failing?.close();
    await fake?.close();
  });

  it('#26 answers 502 embedding_service_error and keeps the file as failed', async () => {
    const m = maiaClient(failing.url);
    const store = (await m.json('/v1/vector_stores', { name: 'fails' })).body.id as string;
    fake.setScript(Array.from({ length: 20 }, () => ({ status: 400, message: 'bad input' })));
    const r = await m.form(`/v1/vector_stores/${store}/files`, { text: 'this will not embed' });
    expect(r).toMatchObject({
      status: 502,
      body: { error: { message: 'File processing failed', type: 'embedding_service_error', code: 502 } },
    });
    const files = await m.get<{ data: Obj[] }>(`/v1/vector_stores/${store}/files`);
    expect(files.body.data.map((f) => f.status)).toEqual(['failed']);
  });
});
