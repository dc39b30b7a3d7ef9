import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, type Sql } from '@vsdb/core/db/client';
import { type DoctorReport, runDoctor } from '@vsdb/core/doctor';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { testConfig } from './config.ts';
import { startServer, tempDir } from './server.ts';

let app: TestApp;
let store: string;
let done: string;
let failed: string;
let blobRoot: string;

beforeAll(async () => {
  app = await startTestApp();
  blobRoot = join(app.config.DATA_DIR, 'files');
  const client = app.client();
  store = (await client.vectorStores.create({ name: 'doctor' })).id;
  const text = Array.from({ length: 40 }, (_, i) => `Line ${i} of a file the doctor looks at.`).join('\n');
  const upload = await client.files.create({
    file: await toFile(Buffer.from(text), 'a.txt'),
    purpose: 'assistants',
  });
  done = (
    await client.vectorStores.files.createAndPoll(store, {
      file_id: upload.id,
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 10 } },
    })
  ).id;
  failed = (
    await client.vectorStores.files.uploadAndPoll(store, await toFile(Buffer.from('  '), 'empty.txt'))
  ).id;
  const batchFile = await client.files.create({
    file: await toFile(Buffer.from('batched words'), 'b.txt'),
    purpose: 'assistants',
  });
  await client.vectorStores.fileBatches.createAndPoll(store, { file_ids: [batchFile.id] });
});
afterAll(() => app?.close());

class Rollback extends Error {}

/** Runs the doctor on a corrupted copy of the data: the corruption is rolled back afterwards. */
async function corrupted(
  corrupt: (tx: Sql) => Promise<unknown>,
  opts: { exclusive?: boolean } = {},
): Promise<DoctorReport> {
  let report: DoctorReport | undefined;
  await app.db.sql
    .begin(async (tx) => {
      await corrupt(tx as unknown as Sql);
      report = await runDoctor({ sql: tx as unknown as Sql, blobRoot, minAgeSeconds: 0, ...opts });
      throw new Rollback();
    })
    .catch((err) => {
      if (!(err instanceof Rollback)) throw err;
    });
  return report!;
}

const failing = (r: DoctorReport) => r.checks.filter((c) => !c.ok).map((c) => c.name);

describe('the doctor', () => {
  it('finds every invariant true on data the service wrote', async () => {
    const report = await runDoctor({ sql: app.db.sql, blobRoot, minAgeSeconds: 0 });
    expect(failing(report)).toEqual([]);
    expect(report.checks.map((c) => c.name)).toEqual([
      'completed_chunks_contiguous',
      'no_half_written_files',
      'no_orphan_chunks',
      'no_orphan_drafts',
      'file_usage_bytes',
      'no_stuck_files',
      'api_counts_match_rows',
      'search_statistics_exact',
      'every_file_has_its_blob',
      'no_orphan_blobs',
      'deleted_blobs_drained',
    ]);
    const [n] = await app.db.sql`SELECT count(*)::int AS n FROM chunks WHERE file_id = ${done}`;
    expect(n!.n).toBeGreaterThan(2);
  });

  it('catches search statistics that drifted from the chunks, and counts the term backlog', async () => {
    const stats = (r: DoctorReport) => r.checks.find((c) => c.name === 'search_statistics_exact')!;
    const [term] = await app.db.sql<{ lexeme: string }[]>`
      SELECT lexeme FROM chunk_terms WHERE vector_store_id = ${store} AND chunks > 0 ORDER BY lexeme LIMIT 1`;
    const drifted = await corrupted(async (tx) => {
      await tx`UPDATE chunk_terms SET chunks = chunks + 1 WHERE vector_store_id = ${store} AND lexeme = ${term!.lexeme}`;
      await tx`UPDATE vector_stores SET chunk_count = chunk_count - 1 WHERE id = ${store}`;
    });
    expect(failing(drifted)).toEqual(['search_statistics_exact']);
    expect(stats(drifted).examples).toEqual([
      expect.stringMatching(new RegExp(`^${store}: .* 1 lexemes off$`)),
    ]);
    // A lexeme's count still to be added by the backlog (migration 0009) is counted: nothing is off.
    const pending = await corrupted(async (tx) => {
      await tx`UPDATE chunk_terms SET chunks = chunks - 1 WHERE vector_store_id = ${store} AND lexeme = ${term!.lexeme}`;
      await tx`INSERT INTO generation_terms (vector_store_id, file_id, generation, lexeme, chunks)
        SELECT ${store}, ${done}, generation, ${term!.lexeme}, 1 FROM chunks WHERE file_id = ${done} LIMIT 1`;
      await tx`INSERT INTO term_backlog (vector_store_id, file_id, generation, sign)
        SELECT ${store}, ${done}, generation, 1 FROM chunks WHERE file_id = ${done} LIMIT 1`;
    });
    expect(stats(pending).ok).toBe(true);
  });

  it('catches a completed file with a missing chunk', async () => {
    const r = await corrupted((tx) => tx`DELETE FROM chunks WHERE file_id = ${done} AND chunk_index = 1`);
    expect(failing(r)).toEqual(['completed_chunks_contiguous', 'file_usage_bytes']);
    expect(r.checks[0]!.examples[0]).toContain(done);
  });

  it('catches chunks of a file that is not completed (half-written)', async () => {
    const r = await corrupted(
      (tx) => tx`UPDATE vector_store_files SET status = 'in_progress' WHERE file_id = ${done}`,
    );
    expect(failing(r)).toEqual(['no_half_written_files', 'file_usage_bytes']);
  });

  it('catches chunks whose attachment is gone', async () => {
    const r = await corrupted(async (tx) => {
      await tx`SET LOCAL session_replication_role = replica`; // lets the row break its foreign key
      await tx`DELETE FROM vector_store_files WHERE file_id = ${done}`;
    });
    expect(failing(r)).toContain('no_orphan_chunks');
  });

  it('catches chunk drafts no job holds, and --repair removes them with their chunks', async () => {
    const sql = app.db.sql;
    const stats = async () => ({
      store: await sql`SELECT chunk_count, token_count FROM vector_stores WHERE id = ${store}`,
      terms:
        await sql`SELECT lexeme, chunks FROM chunk_terms WHERE vector_store_id = ${store} ORDER BY lexeme`,
    });
    const before = await stats();
    // What an attempt stopped in the middle of its write leaves: a draft and some of its chunks, hidden.
    const [draft] = await sql<{ generation: string }[]>`
      INSERT INTO chunk_drafts (vector_store_id, file_id, generation)
      VALUES (${store}, ${done}, nextval('chunk_generations')) RETURNING generation::text`;
    const generation = draft!.generation;
    await sql`
      INSERT INTO chunks (vector_store_id, file_id, generation, chunk_index, content, tokens, page, char_start,
        char_end, attributes, embedding)
      SELECT vector_store_id, file_id, ${generation}, chunk_index, content, tokens, page, char_start, char_end,
        attributes, embedding
      FROM chunks WHERE vector_store_id = ${store} AND file_id = ${done} AND generation <> ${generation}`;
    const drafts = (r: DoctorReport) => r.checks.find((c) => c.name === 'no_orphan_drafts')!;

    const found = await runDoctor({ sql, blobRoot, minAgeSeconds: 0 });
    expect(failing(found)).toEqual(['no_orphan_drafts']);
    expect(drafts(found).examples).toEqual([
      expect.stringMatching(
        new RegExp(`/${done} generation ${generation} \\([1-9]\\d* hidden chunks, file completed\\)$`),
      ),
    ]);
    // A young draft may be a job's that has just failed and is removing it: left alone by default.
    expect(failing(await runDoctor({ sql, blobRoot }))).toEqual([]);
    // A file a worker holds (even past its lease) may be publishing its draft, unless no server can run.
    const held = (tx: Sql) => tx`
      UPDATE vector_store_files SET status = 'in_progress', lease_owner = 'worker-1',
        lease_expires_at = now() - interval '1 minute' WHERE vector_store_id = ${store} AND file_id = ${done}`;
    expect(drafts(await corrupted(held)).ok).toBe(true);
    expect(drafts(await corrupted(held, { exclusive: true })).ok).toBe(false);
    const released = (tx: Sql) => tx`
      UPDATE vector_store_files SET status = 'in_progress', lease_owner = NULL, lease_expires_at = NULL
      WHERE vector_store_id = ${store} AND file_id = ${done}`;
    expect(drafts(await corrupted(released)).ok).toBe(false);

    const fixed = await runDoctor({ sql, blobRoot, blobs: app.deps.blobs, minAgeSeconds: 0, repair: true });
    expect(failing(fixed)).toEqual([]);
    expect(fixed.repaired).toEqual([expect.stringMatching(/^removed orphan draft .* generation /)]);
    const [left] = await sql`SELECT count(*)::int AS n FROM chunks WHERE generation = ${generation}`;
    expect(left!.n).toBe(0);
    // The store's statistics never counted the draft, and still do not.
    expect(await stats()).toEqual(before);
  });

  it('catches usage_bytes that the chunks do not add up to', async () => {
    const r = await corrupted(
      (tx) => tx`UPDATE vector_store_files SET usage_bytes = usage_bytes + 1 WHERE file_id = ${done}`,
    );
    expect(failing(r)).toEqual(['file_usage_bytes']);
  });

  it('catches a file that has waited for a worker too long', async () => {
    const r = await corrupted(
      (
        tx,
      ) => tx`UPDATE vector_store_files SET status = 'in_progress', lease_expires_at = now() - interval '1 hour'
                 WHERE file_id = ${failed}`,
    );
    expect(failing(r)).toEqual(['no_stuck_files']);
    const fresh = await corrupted(
      (
        tx,
      ) => tx`UPDATE vector_store_files SET status = 'in_progress', lease_expires_at = now() + interval '1 minute'
                 WHERE file_id = ${failed}`,
    );
    expect(failing(fresh)).toEqual([]);
  });

  it('catches a file row without its blob, and a blob of the wrong size', async () => {
    const [row] = await app.db.sql<{ blob_key: string }[]>`SELECT blob_key FROM files WHERE id = ${done}`;
    const path = join(blobRoot, row!.blob_key);
    const bytes = readFileSync(path);
    try {
      rmSync(path);
      expect(failing(await runDoctor({ sql: app.db.sql, blobRoot, minAgeSeconds: 0 }))).toEqual([
        'every_file_has_its_blob',
      ]);
      writeFileSync(path, bytes.subarray(1));
      const r = await runDoctor({ sql: app.db.sql, blobRoot, minAgeSeconds: 0 });
      expect(r.checks.find((c) => c.name === 'every_file_has_its_blob')?.examples[0]).toMatch(/wrong|bytes/);
    } finally {
      writeFileSync(path, bytes);
    }
  });

  it('catches orphan blobs, leftovers and undrained deletes, and --repair clears them', async () => {
    mkdirSync(join(blobRoot, 'proj_default'), { recursive: true });
    const orphan = join(blobRoot, 'proj_default', 'file-orphan');
    const leftover = join(blobRoot, 'proj_default', 'file-x.123.456.tmp');
    const deleted = join(blobRoot, 'proj_default', 'file-deleted');
    writeFileSync(orphan, 'nobody owns me');
    writeFileSync(leftover, 'half an upload');
    writeFileSync(deleted, 'deleted but not purged');
    await app.db.sql`INSERT INTO deleted_blobs (blob_key) VALUES ('proj_default/file-deleted')`;

    const found = await runDoctor({ sql: app.db.sql, blobRoot, minAgeSeconds: 0 });
    expect(failing(found)).toEqual(['no_orphan_blobs', 'deleted_blobs_drained']);
    // Young orphans may be uploads between blob and row: left alone by default.
    expect(failing(await runDoctor({ sql: app.db.sql, blobRoot }))).toEqual([]);

    const fixed = await runDoctor({
      sql: app.db.sql,
      blobRoot,
      blobs: app.deps.blobs,
      minAgeSeconds: 0,
      repair: true,
    });
    expect(failing(fixed)).toEqual([]);
    expect(fixed.repaired).toHaveLength(3);
    expect([orphan, leftover, deleted].some(existsSync)).toBe(false);
    // Nothing that belongs to a file was touched.
    expect(failing(await runDoctor({ sql: app.db.sql, blobRoot, minAgeSeconds: 0 }))).toEqual([]);
  });
});

describe('npm run doctor', { timeout: 180_000 }, () => {
  it('checks a stopped server DATA_DIR, refuses while it runs, exits 1 on a problem and repairs', async () => {
    const dir = tempDir();
    const env = { DATA_DIR: dir };
    const server = await startServer(env);
    const remote = new OpenAI({ apiKey: 'local', baseURL: `${server.url}/v1`, maxRetries: 0 });
    const s = await remote.vectorStores.create({ name: 'cli' });
    await remote.vectorStores.files.uploadAndPoll(
      s.id,
      await toFile(Buffer.from('doctor cli words'), 'c.txt'),
    );
    const doctor = (...args: string[]) =>
      spawnSync(
        process.execPath,
        [join(import.meta.dirname, '../packages/core/src/doctor-cli.ts'), ...args],
        {
          env: { PATH: process.env.PATH ?? '', EMBEDDING_DIMENSIONS: '64', ...env },
          encoding: 'utf8',
        },
      );
    const busy = doctor();
    expect(busy.status).toBe(2);
    expect(busy.stderr).toMatch(/in use by another server/);
    expect(await server.stop()).toBe(0);

    writeFileSync(join(dir, 'files', 'stray'), 'x');
    // A draft as a killed server leaves it, of a file still in progress and held: no server runs, so it
    // is an orphan whatever its lease says.
    const db = await openDatabase(testConfig({ DATA_DIR: dir }));
    try {
      await db.sql`INSERT INTO vector_stores (id, project_id, name) VALUES ('vs_cli', 'proj_default', 'x')`;
      await db.sql`
        INSERT INTO vector_store_files (vector_store_id, file_id, project_id, chunking_strategy, lease_owner, lease_expires_at)
        SELECT 'vs_cli', id, project_id, '{}', 'killed', now() + interval '1 hour' FROM files LIMIT 1`;
      await db.sql`
        INSERT INTO chunk_drafts (vector_store_id, file_id, generation)
        SELECT vector_store_id, file_id, nextval('chunk_generations') FROM vector_store_files WHERE vector_store_id = 'vs_cli'`;
    } finally {
      await db.close();
    }
    const dirty = doctor('--json');
    expect(dirty.status).toBe(1);
    const report = JSON.parse(dirty.stdout) as DoctorReport;
    expect(report.checks.find((c) => c.name === 'no_orphan_blobs')).toMatchObject({
      ok: false,
      examples: ['stray'],
    });
    expect(report.checks.find((c) => c.name === 'no_orphan_drafts')).toMatchObject({
      ok: false,
      examples: [expect.stringMatching(/^vs_cli\/.* \(0 hidden chunks, file in_progress\)$/)],
    });
    const repaired = doctor('--repair');
    expect(repaired.stdout).toContain('removed orphan blob stray');
    expect(repaired.stdout).toMatch(/removed orphan draft vs_cli\//);
    expect(repaired.stdout).toContain('all invariants hold');
    expect(repaired.status).toBe(0);
    expect(doctor('--bogus').status).toBe(2);
  });
});
