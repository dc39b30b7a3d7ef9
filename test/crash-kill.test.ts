import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.ts';
import { type RunningServer, startServer, tempDir } from './server.ts';

// SIGKILL the real server (npm start's entry point) during a batch, during deletes racing ingestion, and
// during an upload; after each restart every file ends completed, failed or cancelled, nothing
// acknowledged is lost, and `npm run doctor` finds every invariant true.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let fake: FakeOpenAI;
let dir: string;
let env: Record<string, string>;
let server: RunningServer | undefined;
let client: OpenAI;
let kills = 0;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  dir = tempDir();
  env = {
    DATA_DIR: dir,
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-fake',
    OPENAI_BASE_URL: fake.baseURL,
    CHUNK_SIZE: '100',
    CHUNK_OVERLAP: '20',
    INLINE_MAX_BYTES: '0',
    EMBEDDING_CONCURRENCY: '2',
    INGEST_CONCURRENCY: '2',
  };
  await restart();
}, 180_000);
afterAll(async () => {
  await server?.stop('SIGKILL');
  await fake?.close();
});

async function restart() {
  server = await startServer(env);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'local', maxRetries: 0 });
}

async function kill() {
  expect(await server!.stop('SIGKILL')).toBeNull();
  server = undefined;
  kills++;
}

const text = (tag: string, n = 40) =>
  Array.from(
    { length: n },
    (_, i) => `${tag} section ${i}: the crash test writes words that must survive.`,
  ).join('\n\n');

/** Polls, as a client would, until no file of the store is in progress; returns the store. */
async function settled(storeId: string) {
  for (;;) {
    const s = await client.vectorStores.retrieve(storeId);
    if (s.file_counts.in_progress === 0) return s;
    await sleep(100);
  }
}

function doctor() {
  return spawnSync(process.execPath, [join(import.meta.dirname, '../packages/core/src/doctor-cli.ts')], {
    env: { PATH: process.env.PATH ?? '', EMBEDDING_DIMENSIONS: '64', DATA_DIR: dir },
    encoding: 'utf8',
  });
}

describe('SIGKILL at the worst moments', { timeout: 180_000 }, () => {
  let batchStore: string;
  const batchFiles: string[] = [];

  it('during a file batch: after restart the whole batch completes, each file once', async () => {
    batchStore = (await client.vectorStores.create({ name: 'batch' })).id;
    for (let i = 0; i < 8; i++) {
      const f = await client.files.create({
        file: await toFile(Buffer.from(text(`b${i}`)), `b${i}.txt`),
        purpose: 'assistants',
      });
      batchFiles.push(f.id);
    }
    fake.configure({ latencyMs: 400 });
    const before = fake.stats.requests;
    const batch = await client.vectorStores.fileBatches.create(batchStore, { file_ids: batchFiles });
    // Killed while the batch's embedding request is under way (the coalescer may carry all 8 files in one).
    await fake.until((stats) => stats.requests > before && stats.inFlight > 0);
    await kill();

    fake.configure({ latencyMs: 0 });
    await restart();
    const done = await client.vectorStores.fileBatches.poll(batchStore, batch.id, { pollIntervalMs: 100 });
    expect(done.status).toBe('completed');
    expect(done.file_counts).toEqual({ in_progress: 0, completed: 8, failed: 0, cancelled: 0, total: 8 });
    const store = await settled(batchStore);
    expect(store.file_counts.completed).toBe(8);
  });

  it('during deletes racing ingestion: every delete happened whole or not at all', async () => {
    const store = (await client.vectorStores.create({ name: 'deletes' })).id;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const f = await client.files.create({
        file: await toFile(Buffer.from(text(`d${i}`)), `d${i}.txt`),
        purpose: 'assistants',
      });
      ids.push(f.id);
    }
    await client.vectorStores.fileBatches.createAndPoll(
      store,
      { file_ids: ids.slice(0, 3) },
      { pollIntervalMs: 50 },
    );
    fake.configure({ latencyMs: 300 });
    await client.vectorStores.fileBatches.create(store, { file_ids: ids.slice(3) });
    await sleep(150);
    // Fire without waiting, then kill while they are under way.
    const inFlight = [
      client.files.delete(ids[0]!),
      client.vectorStores.files.delete(ids[1]!, { vector_store_id: store }),
      client.files.delete(ids[3]!),
      client.vectorStores.files.delete(ids[4]!, { vector_store_id: store }),
    ].map((p) =>
      p.then(
        () => 'done',
        () => 'unknown',
      ),
    );
    await sleep(15);
    await kill();
    await Promise.all(inFlight);

    fake.configure({ latencyMs: 0 });
    await restart();
    const s = await settled(store);
    const files = (await client.vectorStores.files.list(store, { limit: 100 })).data;
    expect(
      files.every((f) => f.status === 'completed' || f.status === 'failed' || f.status === 'cancelled'),
    ).toBe(true);
    expect(s.file_counts.total).toBe(files.length);
    // A file is there with its bytes, or gone entirely.
    for (const id of ids) {
      const there = await client.files.retrieve(id).then(
        () => true,
        () => false,
      );
      if (there) expect((await client.files.content(id)).status).toBe(200);
    }
    // The untouched ones survived.
    expect(files.map((f) => f.id)).toContain(ids[2]);
    expect(files.map((f) => f.id)).toContain(ids[5]);

    // A whole store deleted as the process dies.
    const deleting = client.vectorStores.delete(store).then(
      () => 'done',
      () => 'unknown',
    );
    await sleep(5);
    await kill();
    await deleting;
    await restart();
    const gone = await client.vectorStores.retrieve(store).then(
      () => false,
      () => true,
    );
    if (!gone) await settled(store);
  });

  it('during an upload: the half-written upload leaves nothing behind', async () => {
    const { port } = new URL(server!.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => {}); // the server dies under it
    await new Promise((r) => socket.once('connect', r));
    socket.write(
      'POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer local\r\n' +
        'Content-Type: multipart/form-data; boundary=k\r\nContent-Length: 50000000\r\n\r\n' +
        '--k\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n' +
        '--k\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n\r\n',
    );
    for (let i = 0; i < 40; i++) {
      socket.write('x'.repeat(64 * 1024));
      await sleep(5);
    }
    await kill();
    socket.destroy();
    await restart();
  });

  it('survives an upload cut off mid-file (it used to end the process)', async () => {
    const store = (await client.vectorStores.create({ name: 'cut' })).id;
    for (const path of ['/v1/files', `/v1/vector_stores/${store}/files`]) {
      const { port } = new URL(server!.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      const body = '--k\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nhalf a fi';
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer local\r\nConnection: close\r\n` +
          `Content-Type: multipart/form-data; boundary=k\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      const answer = await new Promise<string>((resolve) => {
        let out = '';
        socket.on('data', (d) => {
          out += d;
        });
        socket.on('close', () => resolve(out));
      });
      expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/);
    }
    await sleep(200);
    expect(server!.proc.exitCode).toBeNull();
    expect((await fetch(`${server!.url}/health`)).status).toBe(200);
  });

  it('after all of it: nothing acknowledged is lost and npm run doctor finds every invariant true', async () => {
    const store = await settled(batchStore);
    expect(store.file_counts.completed).toBe(8);
    for (const id of batchFiles) {
      const content = Buffer.from(await (await client.files.content(id)).arrayBuffer()).toString();
      expect(content).toContain('section 39');
      const chunks = await client.vectorStores.files.content(id, { vector_store_id: batchStore });
      const first = [];
      for await (const c of chunks) first.push(c.text);
      expect(first.join('\n')).toContain('section 0:');
    }
    expect(await server!.stop()).toBe(0);
    server = undefined;
    const report = doctor();
    expect(report.stdout).toContain('all invariants hold');
    expect(report.status).toBe(0);
    console.log(
      `crashes: ${kills} SIGKILLs (batch, deletes, store delete, upload); doctor: all invariants hold`,
    );
  });
});
