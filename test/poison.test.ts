// A poison file cannot take the server down: a DOCX that exhausts its worker thread's heap budget fails
// cleanly with last_error while the server keeps serving, and is not run again, not even after a restart.
// A job that kills its whole process is failed after a bounded number of claims.
import { runNamedJob } from '@vsdb/core/ingest/runner';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestApp } from './app.ts';
import { heavyDocx } from './pathological.ts';
import { type RunningServer, startServer, tempDir } from './server.ts';

let server: RunningServer | undefined;
afterAll(async () => {
  await server?.stop();
});

const sdk = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-open', maxRetries: 0 });

describe('poison files', () => {
  it('a DOCX that exhausts its heap budget fails with invalid_file; the server serves on; no re-run', async () => {
    const cwd = tempDir();
    const env = { DATA_DIR: 'data', INGEST_FILE_HEAP_MB: '48' };
    server = await startServer(env, cwd);
    const client = sdk(server.url);
    const store = await client.vectorStores.create({ name: 'poison' });
    const docx = await heavyDocx(); // ~100 KB: queued for the worker, not run within the request
    const file = await client.files.create({
      file: new File([Buffer.from(docx)], 'poison.docx'),
      purpose: 'assistants',
    });
    const attached = await client.vectorStores.files.create(store.id, { file_id: file.id });
    expect(attached.status).toBe('in_progress');
    let vsf = attached;
    while (vsf.status === 'in_progress') {
      // The server answers while the poison is being read.
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      vsf = await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
    }
    expect(vsf.status).toBe('failed');
    expect(vsf.last_error).toEqual({
      code: 'invalid_file',
      message: expect.stringMatching(/'poison\.docx' needs more than 48 MB of memory/),
    });
    // The next file is read by a fresh thread.
    const ok = await client.vectorStores.files.uploadAndPoll(
      store.id,
      new File(['a healthy file'], 'ok.txt'),
    );
    expect(ok.status).toBe('completed');

    // Restarted on the same data, the failed job stays failed: nothing claims it again.
    expect(await server.stop()).toBe(0);
    server = await startServer(env, cwd);
    const again = sdk(server.url);
    const after = await again.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
    expect(after).toMatchObject({ status: 'failed', last_error: vsf.last_error });
    expect(server.output()).not.toMatch(/poison\.docx.*needs more/s);
  }, 300_000);

  it('a job claimed more than three times (its runs killed the process) is failed, not run again', async () => {
    const app = await startTestApp();
    try {
      await app.deps.worker.stop(); // this test claims the job itself
      const client = app.client();
      const store = await client.vectorStores.create({ name: 'killer' });
      const file = await client.files.create({
        file: new File([Buffer.alloc(200_000, 'k')], 'killer.txt'),
        purpose: 'assistants',
      });
      const job = { vectorStoreId: store.id, fileId: file.id };
      await client.vectorStores.files.create(store.id, { file_id: file.id });
      // Three claims whose process died mid-run: each counted its attempt when it claimed the job.
      await app.db.sql`UPDATE vector_store_files SET attempts = 3 WHERE file_id = ${file.id}`;
      expect(await runNamedJob(app.deps, job, 'test-worker')).toBe('failed');
      const vsf = await client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id });
      expect(vsf).toMatchObject({ status: 'failed', last_error: { code: 'server_error' } });
      expect(vsf.last_error?.message).toMatch(/failed 3 times/);
      const [row] = await app.db.sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${file.id}`;
      expect(row!.n).toBe(0);
      expect(await runNamedJob(app.deps, job, 'test-worker')).toBe('busy');
    } finally {
      await app.close();
    }
  });
});
