import { runNamedJob } from '@vsdb/core/ingest/runner';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestWorker } from '../packages/core/src/ingest/worker.ts';
import { startTestApp, type TestApp } from './app.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.ts';

let fake: FakeOpenAI;
let app: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  app = await startTestApp({
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: fake.baseURL,
    EMBEDDING_MAX_RETRIES: '3',
    CHUNK_SIZE: '100',
    CHUNK_OVERLAP: '20',
    LOG_LEVEL: 'error',
  });
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const paragraph = (i: number) => `Paragraph ${i} talks about topic ${i % 7} with some detail. `.repeat(6);

async function invariants() {
  const bad = await app.db.sql`
    SELECT v.vector_store_id, v.file_id, v.status, count(c.id)::int AS chunks
    FROM vector_store_files v LEFT JOIN chunks c USING (vector_store_id, file_id)
    GROUP BY 1, 2, 3
    HAVING (v.status = 'completed') <> (count(c.id) > 0)`;
  expect(bad).toEqual([]);
  const orphans = await app.db.sql`
    SELECT c.id FROM chunks c LEFT JOIN vector_store_files v USING (vector_store_id, file_id) WHERE v.file_id IS NULL`;
  expect(orphans).toEqual([]);
}

describe('ingestion through the OpenAI provider', () => {
  it('retries 429 (honouring Retry-After) and 500, then completes', async () => {
    const client = app.client();
    const store = await client.vectorStores.create({ name: 'retry' });
    fake.resetStats();
    fake.setScript([{ status: 429, retryAfter: '1' }, { status: 500 }]);
    const started = Date.now();
    const file = await client.vectorStores.files.uploadAndPoll(
      store.id,
      await toFile(Buffer.from(Array.from({ length: 30 }, (_, i) => paragraph(i)).join('\n\n')), 'doc.txt'),
    );
    expect(file.status).toBe('completed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(fake.stats.requests).toBe(3);
    expect(fake.stats.succeeded).toBe(1);
    const [n] = await app.db
      .sql`SELECT count(*)::int AS n, max(chunk_index)::int AS last FROM chunks WHERE file_id = ${file.id}`;
    expect(n?.n).toBeGreaterThan(5);
    expect(n?.last).toBe(n!.n - 1);
    // Every chunk went out in one packed request.
    expect(fake.stats.inputsPerRequest.at(-1)).toBe(n?.n);
    await invariants();
  });

  it('fails the file with an actionable server_error when retries are spent, and retries on re-attach', async () => {
    const client = app.client();
    const store = await client.vectorStores.create({ name: 'fail' });
    const upload = await client.files.create({
      file: await toFile(Buffer.from(paragraph(1)), 'f.txt'),
      purpose: 'assistants',
    });
    fake.setScript(Array.from({ length: 4 }, () => ({ status: 503 })));
    const failed = await client.vectorStores.files.createAndPoll(store.id, { file_id: upload.id });
    expect(failed.status).toBe('failed');
    expect(failed.last_error?.code).toBe('server_error');
    expect(failed.last_error?.message).toMatch(/embedding/i);
    expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ failed: 1, total: 1 });
    await invariants();

    fake.setScript([]);
    const again = await client.vectorStores.files.createAndPoll(store.id, { file_id: upload.id });
    expect(again.status).toBe('completed');
    expect(again.last_error).toBeNull();
    expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({
      completed: 1,
      failed: 0,
      total: 1,
    });
    await invariants();
  });

  it('queues large files for the worker and leaves nothing behind when the store is deleted mid-way', async () => {
    const client = app.client();
    const store = await client.vectorStores.create({ name: 'big' });
    const big = Array.from({ length: 600 }, (_, i) => paragraph(i)).join('\n\n');
    const upload = await client.files.create({
      file: await toFile(Buffer.from(big), 'big.txt'),
      purpose: 'assistants',
    });
    fake.configure({ latencyMs: 300 });
    const vsf = await client.vectorStores.files.create(store.id, { file_id: upload.id });
    expect(vsf.status).toBe('in_progress');
    await client.vectorStores.delete(store.id);
    fake.configure({ latencyMs: 0 });
    await app.deps.worker.idle();
    const [left] = await app.db
      .sql`SELECT count(*)::int AS n FROM chunks WHERE vector_store_id = ${store.id}`;
    expect(left?.n).toBe(0);
    await invariants();

    const other = await client.vectorStores.create({ name: 'big2' });
    const done = await client.vectorStores.files.createAndPoll(other.id, { file_id: upload.id });
    expect(done.status).toBe('completed');
  });
});

describe('cancel and delete while ingesting', () => {
  it('a cancelled batch writes nothing, a deleted file leaves no chunk', async () => {
    const client = app.client();
    const store = await client.vectorStores.create({ name: 'cancel' });
    const big = Array.from({ length: 300 }, (_, i) => paragraph(i)).join('\n\n');
    const files = await Promise.all(
      [1, 2, 3].map(async (i) =>
        client.files.create({ file: await toFile(Buffer.from(big), `c${i}.txt`), purpose: 'assistants' }),
      ),
    );
    fake.configure({ latencyMs: 3000 });
    const before = fake.stats.requests;
    const batch = await client.vectorStores.fileBatches.create(store.id, {
      file_ids: files.slice(0, 2).map((f) => f.id),
    });
    expect(batch.status).toBe('in_progress');
    const single = await client.vectorStores.files.create(store.id, { file_id: files[2]!.id });
    expect(single.status).toBe('in_progress');
    await fake.until((stats) => stats.requests > before);
    const cancelled = await client.vectorStores.fileBatches.cancel(batch.id, { vector_store_id: store.id });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.file_counts).toMatchObject({ cancelled: 2, in_progress: 0 });
    await client.files.delete(files[2]!.id);
    fake.configure({ latencyMs: 0 });
    await app.deps.worker.idle();
    const [n] = await app.db.sql`SELECT count(*)::int AS n FROM chunks WHERE vector_store_id = ${store.id}`;
    expect(n?.n).toBe(0);
    const s = await client.vectorStores.retrieve(store.id);
    expect(s.file_counts).toEqual({ in_progress: 0, completed: 0, failed: 0, cancelled: 2, total: 2 });
    await invariants();
    // Attaching a cancelled file again retries it.
    const retried = await client.vectorStores.files.createAndPoll(store.id, { file_id: files[0]!.id });
    expect(retried.status).toBe('completed');
  });
});

describe('rewrite_query with REWRITE_MODEL', () => {
  it('embeds a batch of small files in shared requests, and the same text never twice', async () => {
    const client = app.client();
    const store = await client.vectorStores.create({ name: 'shared requests' });
    const files = [];
    for (let i = 0; i < 12; i++) {
      const text = Array.from({ length: 3 }, (_, j) => paragraph(1000 + i * 10 + j)).join('\n\n');
      files.push(
        (
          await client.files.create({
            file: await toFile(Buffer.from(text), `s${i}.txt`),
            purpose: 'assistants',
          })
        ).id,
      );
    }
    fake.resetStats();
    const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: files });
    expect(batch.file_counts.completed).toBe(12);
    const [{ n } = { n: 0 }] = await app.db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM chunks WHERE vector_store_id = ${store.id}`;
    // Every file's chunks fit one request: far fewer requests than files.
    expect(fake.stats.inputsPerRequest.reduce((a, b) => a + b, 0)).toBe(n);
    expect(fake.stats.requests).toBeLessThan(4);

    // The same files in another store: every chunk comes from the cache.
    const again = await client.vectorStores.create({ name: 'from the cache' });
    fake.resetStats();
    const second = await client.vectorStores.fileBatches.createAndPoll(again.id, { file_ids: files });
    expect(second.file_counts.completed).toBe(12);
    expect(fake.stats.requests).toBe(0);
    const [counts] = await app.db.sql`
      SELECT embedding_cache_hits::int AS hits, embedding_cache_misses::int AS misses FROM vector_stores WHERE id = ${again.id}`;
    expect(counts).toEqual({ hits: n, misses: 0 });
    // Identical vectors: the search ranks the two stores' copies alike.
    const [diff] = await app.db.sql`
      SELECT count(*)::int AS n FROM chunks a JOIN chunks b USING (file_id, chunk_index)
      WHERE a.vector_store_id = ${store.id} AND b.vector_store_id = ${again.id} AND a.embedding::text <> b.embedding::text`;
    expect(diff?.n).toBe(0);
    await invariants();
  });

  it('asks the chat model for the search query', async () => {
    const rewriting = await startTestApp({
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-fake',
      OPENAI_BASE_URL: fake.baseURL,
      REWRITE_MODEL: 'gpt-4o-mini',
    });
    try {
      const client = rewriting.client();
      const store = await client.vectorStores.create({ name: 'rewrite' });
      const before = fake.stats.chatRequests;
      const res = await fetch(`${rewriting.url}/v1/vector_stores/${store.id}/search`, {
        method: 'POST',
        headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'what is the launch code?', rewrite_query: true }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { search_query: string[] }).search_query).toEqual([
        'WHAT IS THE LAUNCH CODE?',
      ]);
      expect(fake.stats.chatRequests).toBe(before + 1);
    } finally {
      await rewriting.close();
    }
  });
});

describe('a stage that never settles', () => {
  it('fails the job at INGEST_JOB_TIMEOUT_MS, with last_error, and writes nothing of it', async () => {
    const own = await startTestApp();
    try {
      await own.deps.worker.stop(); // this test runs the job itself
      const client = own.client();
      const store = await client.vectorStores.create({ name: 'stuck' });
      const file = await client.files.create({
        file: await toFile(Buffer.alloc(200_000, 'k'), 'stuck.txt'),
        purpose: 'assistants',
      });
      await client.vectorStores.files.create(store.id, { file_id: file.id });
      // Reading the file never answers (a hung disk or network read): only the job's own budget ends it.
      const blobs = Object.create(own.deps.blobs, { get: { value: () => new Promise(() => {}) } });
      const job = { vectorStoreId: store.id, fileId: file.id };
      const config = { ...own.deps.config, INGEST_JOB_TIMEOUT_MS: 300 };
      expect(await runNamedJob({ ...own.deps, config, blobs }, job, 'test-worker')).toBe('failed');
      const vsf = await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
      expect(vsf).toMatchObject({ status: 'failed', last_error: { code: 'server_error' } });
      expect(vsf.last_error?.message).toMatch(/did not finish within 0\.3 s \(INGEST_JOB_TIMEOUT_MS\)/);
      const [row] = await own.db.sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${file.id}`;
      expect(row!.n).toBe(0);
      // Nothing of it holds on: attached again and run with a store that answers, the same file completes.
      await client.vectorStores.files.create(store.id, { file_id: file.id });
      expect(await runNamedJob(own.deps, job, 'test-worker')).toBe('completed');
    } finally {
      await own.close();
    }
  });

  it('is handed back when the worker stops (shutdown), its lease released', async () => {
    const own = await startTestApp();
    try {
      await own.deps.worker.stop(); // this test runs its own worker
      const client = own.client();
      const store = await client.vectorStores.create({ name: 'stuck-stop' });
      const file = await client.files.create({
        file: await toFile(Buffer.from('words of a file whose read hangs. '.repeat(200)), 'stuck.txt'),
        purpose: 'assistants',
      });
      await client.vectorStores.files.create(store.id, { file_id: file.id });
      const blobs = Object.create(own.deps.blobs, { get: { value: () => new Promise(() => {}) } });
      const worker = new IngestWorker({ ...own.deps, blobs }, { concurrency: 1, pollMs: 20 });
      worker.start();
      const owner = () => own.db.sql<{ lease_owner: string | null; status: string }[]>`
        SELECT lease_owner, status FROM vector_store_files WHERE file_id = ${file.id}`;
      while ((await owner())[0]!.lease_owner !== worker.owner) await new Promise((r) => setTimeout(r, 20));
      await worker.stop(); // the read still hangs (and would for INGEST_JOB_TIMEOUT_MS, 30 minutes)
      expect((await owner())[0]).toEqual({ lease_owner: null, status: 'in_progress' });
      // Claimed again by a worker whose reads answer, it completes.
      expect(await runNamedJob(own.deps, { vectorStoreId: store.id, fileId: file.id }, 'next')).toBe(
        'completed',
      );
    } finally {
      await own.close();
    }
  });
});
