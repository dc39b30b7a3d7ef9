import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.ts';
import { seededDataDir } from './seeded.ts';
import { startServer } from './server.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake?.close());

describe('a server killed mid-ingestion', () => {
  it('completes the file after restart, once, with counts that agree; data survives restarts', async () => {
    const dir = await seededDataDir();
    const env = {
      DATA_DIR: dir,
      EMBEDDING_PROVIDER: 'openai',
      OPENAI_API_KEY: 'sk-fake',
      OPENAI_BASE_URL: fake.baseURL,
      CHUNK_SIZE: '100',
      CHUNK_OVERLAP: '20',
      INLINE_MAX_BYTES: '0',
      EMBEDDING_CONCURRENCY: '1',
    };
    const text = Array.from({ length: 120 }, (_, i) => `Section ${i}: the quick brown fox ${i} jumps.`).join(
      '\n\n',
    );
    fake.configure({ latencyMs: 5000 });
    let server = await startServer(env);
    let client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
    const store = await client.vectorStores.create({ name: 'crash' });
    const file = await client.files.create({
      file: await toFile(Buffer.from(text), 'sections.txt'),
      purpose: 'assistants',
    });
    const attached = await client.vectorStores.files.create(store.id, { file_id: file.id });
    expect(attached.status).toBe('in_progress');
    const before = fake.stats.requests;
    await fake.until((stats) => stats.requests > before); // the embedding call is under way
    expect(await server.stop('SIGKILL')).toBeNull();

    fake.configure({ latencyMs: 0 });
    server = await startServer(env);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
    const done = await client.vectorStores.files.poll(store.id, file.id, { pollIntervalMs: 100 });
    expect(done.status).toBe('completed');
    const s = await client.vectorStores.retrieve(store.id);
    expect(s.file_counts).toEqual({ in_progress: 0, completed: 1, failed: 0, cancelled: 0, total: 1 });
    expect(s.usage_bytes).toBe(done.usage_bytes);
    const parts: string[] = [];
    for await (const p of await client.vectorStores.files.content(file.id, { vector_store_id: store.id }))
      parts.push(p.text!);
    // Each section appears, in order, and the chunk list is not doubled by the retried job.
    const joined = parts.join('\n');
    for (let i = 0; i < 120; i += 17) expect(joined).toContain(`Section ${i}:`);
    const firsts = parts.map((p) => /Section (\d+):/.exec(p)?.[1]).map(Number);
    expect(firsts).toEqual([...firsts].sort((a, b) => a - b));
    expect(await server.stop()).toBe(0);

    // A clean restart keeps everything.
    server = await startServer(env);
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
    expect((await client.vectorStores.retrieve(store.id)).file_counts.completed).toBe(1);
    expect(Buffer.from(await (await client.files.content(file.id)).arrayBuffer()).toString()).toBe(text);
    await server.stop();
  });
});
