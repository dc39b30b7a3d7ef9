import { join } from 'node:path';
import { runDoctor } from '@vsdb/core/doctor';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { type FakeOpenAI, type FakeStep, startFakeOpenAI } from './fake-openai.ts';

// The embedding provider answers 429 or 500, or hangs: a search answers 502 within its bound whatever the
// provider does and whatever ingestion is doing; ingestion retries, then fails the file with last_error,
// and a failed file has nothing written.

const SECRET = 'sk-provider-secret-4242';
const SEARCH_BOUND_MS = 1500;
let fake: FakeOpenAI;
let app: TestApp;
let store: string;
let faults = 0;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  app = await startTestApp({
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: SECRET,
    OPENAI_BASE_URL: fake.baseURL,
    EMBEDDING_TIMEOUT_MS: '2000',
    EMBEDDING_MAX_RETRIES: '2',
    EMBEDDING_CONCURRENCY: '1',
    SEARCH_EMBEDDING_TIMEOUT_MS: String(SEARCH_BOUND_MS),
    INLINE_MAX_BYTES: '0',
  });
  const client = app.client();
  store = (await client.vectorStores.create({ name: 'faults' })).id;
  const done = await client.vectorStores.files.uploadAndPoll(
    store,
    await toFile(Buffer.from('the provider was healthy when this was written'), 'ok.txt'),
    { pollIntervalMs: 50 },
  );
  expect(done.status).toBe('completed');
});
afterAll(async () => {
  await app?.close();
  await fake?.close();
});

const script = (steps: FakeStep[]) => {
  faults += steps.length;
  fake.setScript(steps);
};
const forever = (step: FakeStep) => Array.from({ length: 200 }, () => step);

async function search(query: string) {
  const res = await fetch(`${app.url}/v1/vector_stores/${store}/search`, {
    method: 'POST',
    headers: { authorization: 'Bearer x', 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, body: await res.text() };
}

/**
 * The search's own deadline ended it, and said so: not the provider, not the retries running out. The
 * deadline is the server's timer; the test waits for its answer and reads which limit gave it.
 */
const BY_THE_BOUND = new RegExp(
  `did not succeed within ${SEARCH_BOUND_MS / 1000} s|no request slot came free within ${SEARCH_BOUND_MS / 1000} s`,
);

async function expect502(query: string, cause: RegExp = BY_THE_BOUND) {
  const r = await search(query);
  expect(r.status, r.body).toBe(502);
  const body = JSON.parse(r.body) as { error: { message: string } };
  expect(body).toMatchObject({ error: { code: 'embedding_error', type: 'server_error' } });
  expect(body.error.message).toMatch(cause);
  expect(r.body).not.toContain(SECRET);
  return r;
}

describe('embedding provider faults during search', () => {
  it('answers 502 within the bound when the provider keeps answering 429 (Retry-After)', async () => {
    script(forever({ status: 429, retryAfter: '1' }));
    await expect502('rate limited question');
  });

  it('answers 502 within the bound when the provider keeps failing with 500', async () => {
    script(forever({ status: 500 }));
    // Backoff pauses are short: the retries (EMBEDDING_MAX_RETRIES 2) may run out before the bound does.
    await expect502('failing question', new RegExp(`${BY_THE_BOUND.source}|failed 3 times in a row`));
  });

  it('answers 502 within the bound when the provider hangs', async () => {
    fake.configure({ hang: true });
    faults++;
    try {
      await expect502('hanging question');
    } finally {
      fake.configure({ hang: false });
    }
  });

  it('answers 502 within the bound while ingestion holds every provider slot', async () => {
    const client = app.client();
    script(forever({ hang: true }).slice(0, 10));
    const file = await client.files.create({
      file: await toFile(Buffer.from('a file whose embedding hangs'), 'slow.txt'),
      purpose: 'assistants',
    });
    await client.vectorStores.files.create(store, { file_id: file.id });
    await fake.until((stats) => stats.inFlight > 0);
    expect(fake.stats.inFlight).toBe(1);
    await expect502('waiting for a slot');
    await app.deps.worker.idle();
  });

  it('searches again as soon as the provider is back', async () => {
    script([]);
    const r = await search('healthy');
    expect(r.status, r.body).toBe(200);
  });
});

describe('embedding provider faults during ingestion', () => {
  it('retries a 500 and completes', async () => {
    script([{ status: 500 }, { status: 500 }]);
    const done = await app
      .client()
      .vectorStores.files.uploadAndPoll(
        store,
        await toFile(Buffer.from('retried twice, then fine'), 'r.txt'),
        {
          pollIntervalMs: 50,
        },
      );
    expect(done.status).toBe('completed');
  });

  it('fails the file with last_error when the provider keeps failing, and writes nothing of it', async () => {
    for (const [name, steps] of [
      ['always-500.txt', forever({ status: 500 })],
      ['always-429.txt', forever({ status: 429, retryAfter: '0' })],
      ['hangs.txt', forever({ hang: true })],
      ['quota.txt', [{ status: 429, code: 'insufficient_quota' }]],
      ['bad-vectors.txt', [{ dimensions: 3 }]],
    ] as const) {
      script([...steps]);
      const failed = await app
        .client()
        .vectorStores.files.uploadAndPoll(store, await toFile(Buffer.from(`content of ${name}`), name), {
          pollIntervalMs: 50,
        });
      expect(failed.status, name).toBe('failed');
      expect(failed.last_error?.code, name).toBe('server_error');
      expect(failed.last_error?.message, name).toMatch(/embedding/i);
      expect(failed.last_error?.message, name).not.toContain(SECRET);
      expect(failed.usage_bytes, name).toBe(0);
      const [n] = await app.db.sql`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${failed.id}`;
      expect(n!.n, name).toBe(0);
    }
    script([]);
    await app.deps.worker.idle();
    const report = await runDoctor({
      sql: app.db.sql,
      blobRoot: join(app.config.DATA_DIR, 'files'),
      minAgeSeconds: 0,
    });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    const s = await app.client().vectorStores.retrieve(store);
    expect(s.file_counts).toMatchObject({ in_progress: 0, failed: 6, completed: 2 });
    const failedCalls = fake.stats.requests - fake.stats.succeeded;
    expect(failedCalls).toBeGreaterThan(20);
    console.log(
      `embedding faults: ${failedCalls} provider calls failed or hung (${faults} scripted), 0 half-written files`,
    );
  });
});
