import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { DoctorReport } from '@vsdb/core/doctor';
import OpenAI, { toFile } from 'openai';
import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { admin, dbName, nativeUrl, poolerUrl, withDatabase } from './engine.ts';
import { type RunningServer, startServer, tempDir } from './server.ts';

// SIGTERM ends the real server (npm start's entry point) whatever it is doing: files ingesting, a client
// that stalls in the middle of its upload. The jobs it held are handed back and done by the next start;
// nothing stored is damaged (the doctor finds every invariant true).

let server: RunningServer | undefined;
afterEach(async () => {
  if (server?.proc.exitCode === null) await server.stop('SIGKILL');
  server = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const text = (tag: string, n: number) =>
  Array.from(
    { length: n },
    (_, i) => `${tag} paragraph ${i}: the shutdown test writes ${tag}-${i} words that must all survive.`,
  ).join('\n\n');

function doctor(dir: string, ...args: string[]) {
  return spawnSync(
    process.execPath,
    [join(import.meta.dirname, '../packages/core/src/doctor-cli.ts'), ...args],
    {
      env: { PATH: process.env.PATH ?? '', EMBEDDING_DIMENSIONS: '64', DATA_DIR: dir },
      encoding: 'utf8',
    },
  );
}

const clientOf = (s: RunningServer) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'local', maxRetries: 0 });

describe('SIGTERM', { timeout: 180_000 }, () => {
  it('while files ingest: exits 0, hands the jobs back, and the next start completes every file', async () => {
    const dir = tempDir();
    const env = { DATA_DIR: dir, INGEST_CONCURRENCY: '2', INLINE_MAX_BYTES: '0' };
    server = await startServer(env);
    let client = clientOf(server);
    const store = (await client.vectorStores.create({ name: 'shutdown' })).id;
    const files = 10;
    const ids: string[] = [];
    for (let i = 0; i < files; i++) {
      const file = await client.files.create({
        file: await toFile(Buffer.from(text(`f${i}`, 1500)), `f${i}.txt`),
        purpose: 'assistants',
      });
      await client.vectorStores.files.create(store, { file_id: file.id });
      ids.push(file.id);
    }
    // Stop while the worker is busy: one file done, the others still in progress.
    let counts = (await client.vectorStores.retrieve(store)).file_counts;
    while (counts.completed === 0) {
      await sleep(50);
      counts = (await client.vectorStores.retrieve(store)).file_counts;
    }
    expect(counts.in_progress).toBeGreaterThan(0);
    const code = await server.stop('SIGTERM');
    const out = server.output();
    expect(code, out).toBe(0);
    expect(out).toContain('stopped cleanly');
    expect(out).not.toMatch(/shutdown still waiting|ERROR/);
    expect(out).toMatch(/job stopped: cancelled, detached or handed back/);
    // Nothing is broken. A stopped job removes its draft unless its stage took more than the 3 s it is
    // given (a loaded machine): the doctor then reports the draft, which the job's next run removes.
    const stopped = JSON.parse(doctor(dir, '--json').stdout) as DoctorReport;
    expect(stopped.checks.filter((c) => !c.ok && c.name !== 'no_orphan_drafts')).toEqual([]);

    server = await startServer(env);
    client = clientOf(server);
    for (;;) {
      const s = await client.vectorStores.retrieve(store);
      if (s.file_counts.in_progress === 0) {
        expect(s.file_counts).toMatchObject({ completed: files, failed: 0, total: files });
        break;
      }
      await sleep(100);
    }
    // Every file's words are found: each was written whole, once.
    for (const [i, id] of ids.entries()) {
      const chunks = await client.vectorStores.files.content(id, { vector_store_id: store });
      const all = [];
      for await (const part of chunks) all.push(part.text);
      expect(all.join(' ')).toContain(`f${i}-1499 words`);
    }
    expect(await server.stop('SIGTERM')).toBe(0);
    const report = doctor(dir);
    expect(report.stdout).toContain('all invariants hold');
    expect(report.status).toBe(0);
  });

  it('while a client stalls in the middle of its upload: exits 0 once the drain time is up', async () => {
    const dir = tempDir();
    server = await startServer({ DATA_DIR: dir });
    const url = new URL(server.url);
    const stalled = connect(Number(url.port), url.hostname);
    const closed = new Promise<void>((resolve) => stalled.on('close', () => resolve()));
    stalled.on('error', () => {});
    // Headers and the start of a body that never comes: the request stays in flight.
    stalled.write(
      'POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n' +
        'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc',
    );
    // The request has reached the server once its temporary file exists.
    const tmp = join(dir, 'files', '.tmp');
    while (!existsSync(tmp) || readdirSync(tmp).length === 0) await sleep(20);
    expect(await server.stop('SIGTERM')).toBe(0);
    await closed; // its connection was closed, not left open
    expect(server.output()).toContain('stopped cleanly');
    expect(server.output()).toMatch(/still running after \d+ s; closing their connections/);
    expect(doctor(dir).status).toBe(0);
  });

  it('a second signal ends the process at once, while the first still waits for a stalled upload', async () => {
    server = await startServer({ DATA_DIR: tempDir() });
    const url = new URL(server.url);
    const stalled = connect(Number(url.port), url.hostname);
    stalled.on('error', () => {});
    stalled.write('POST /v1/files HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc');
    const proc = server.proc;
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    const stopping = new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        if (d.toString().includes('SIGTERM: stopping')) resolve();
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', onData);
    });
    proc.kill('SIGTERM');
    await stopping;
    proc.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(server.output()).toContain('SIGINT again: exiting without waiting');
    expect(server.output()).not.toContain('closing their connections'); // it did not wait the 10 s
    stalled.destroy();
  });

  // On an external database the leases are what another process (or the next start) goes by: each job must
  // have let go of its own. Runs where a native server is configured (npm run test:engines).
  it.skipIf(!process.env.TEST_DATABASE_URL)(
    'on native PostgreSQL through PgBouncer: every job is released, no draft is left',
    async () => {
      const name = dbName('db');
      const root = admin();
      await root.unsafe(`CREATE DATABASE ${name}`);
      const direct = postgres(withDatabase(nativeUrl(), name), { max: 1, onnotice: () => {} });
      try {
        server = await startServer({ DATABASE_URL: withDatabase(poolerUrl(), name), INLINE_MAX_BYTES: '0' });
        const client = clientOf(server);
        const store = (await client.vectorStores.create({ name: 'native' })).id;
        for (let i = 0; i < 6; i++) {
          const file = await client.files.create({
            file: await toFile(Buffer.from(text(`n${i}`, 3000)), `n${i}.txt`),
            purpose: 'assistants',
          });
          await client.vectorStores.files.create(store, { file_id: file.id });
        }
        // Stop once jobs hold leases (the worker has claimed them).
        while ((await direct`SELECT 1 FROM vector_store_files WHERE lease_owner IS NOT NULL`).length === 0)
          await sleep(20);
        expect(await server.stop('SIGTERM')).toBe(0);
        expect(server.output()).toContain('stopped cleanly');
        const rows = await direct<{ status: string; lease_owner: string | null }[]>`
          SELECT status, lease_owner FROM vector_store_files`;
        expect(rows.filter((r) => r.status === 'in_progress').length).toBeGreaterThan(0);
        expect(rows.filter((r) => r.lease_owner !== null)).toEqual([]);
        expect(await direct`SELECT * FROM chunk_drafts`).toEqual([]);
      } finally {
        await direct.end();
        await root.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await root.end();
      }
    },
  );
});
