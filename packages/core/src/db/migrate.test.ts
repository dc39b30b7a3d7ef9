import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../../test/config.ts';
import { engine, isNative, nativeUrl, withDatabase } from '../../../../test/engine.ts';
import { emptyDatabase } from '../../../../test/helpers.ts';
import { insertChunks, seedStore } from '../../../../test/search-fixtures.ts';
import { searchChunks } from '../search/search.ts';
import { type Database, openDatabase } from './client.ts';
import {
  assertDimensions,
  MIGRATIONS_DIR,
  migrateDown,
  migrateUp,
  migrationStatus,
  pendingSql,
  readMigrations,
} from './migrate.ts';

const config = testConfig();
const dimensions = config.EMBEDDING_DIMENSIONS;
let db: Database;

beforeAll(async () => {
  db = await emptyDatabase(config);
});
afterAll(() => db?.close());

const tables = async () =>
  (
    await db.sql<{ t: string }[]>`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`
  ).map((r) => r.t);

const embeddingType = async () =>
  (
    await db.sql<{ t: string }[]>`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute
      WHERE attrelid = 'chunks'::regclass AND attname = 'embedding'`
  )[0]?.t;

describe(`migration runner on a fresh database (${engine})`, () => {
  it('prints the pending SQL without changing anything', async () => {
    const text = await pendingSql(db.sql, { dimensions });
    expect(text).toContain('CREATE TABLE IF NOT EXISTS schema_migrations');
    expect(text).toContain(`halfvec(${dimensions})`);
    expect(text).not.toContain('{{');
    expect(await tables()).toEqual([]);
  });

  it('goes up, down and up again', async () => {
    const up = await migrateUp(db.sql, { dimensions });
    expect(up.map((m) => m.version)).toEqual(readMigrations().map((m) => m.version));
    expect(await tables()).toEqual(
      expect.arrayContaining([
        'chunks',
        'vector_stores',
        'vector_store_files',
        'files',
        'file_batches',
        'api_keys',
      ]),
    );
    // 0008: full-precision vectors on the WebAssembly engine, halfvec on a native server.
    const type = isNative ? 'halfvec' : 'vector';
    expect(await embeddingType()).toBe(`${type}(${dimensions})`);
    const indexes = await db.sql`SELECT indexdef FROM pg_indexes WHERE tablename = 'chunks'`;
    expect(indexes.map((i) => i.indexdef).join('\n')).toContain(`USING hnsw (embedding ${type}_cosine_ops)`);
    expect(indexes.map((i) => i.indexdef).join('\n')).toMatch(/USING gin \(tsv\)/);

    expect(await migrateUp(db.sql, { dimensions })).toEqual([]);
    expect((await migrationStatus(db.sql)).every((s) => s.state === 'applied')).toBe(true);

    const down = await migrateDown(db.sql, { dimensions, steps: 99 });
    expect(down.map((m) => m.version)).toEqual(up.map((m) => m.version).reverse());
    expect(await tables()).toEqual(['schema_migrations']);
    expect((await migrationStatus(db.sql)).every((s) => s.state === 'pending')).toBe(true);

    expect((await migrateUp(db.sql, { dimensions })).length).toBe(up.length);
    expect(await pendingSql(db.sql, { dimensions })).not.toContain('CREATE');
  });

  it('refuses to run when an applied file changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsdb-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    const file = join(dir, '0001_init.up.sql');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- edited\n`);
    expect((await migrationStatus(db.sql, dir))[0]?.state).toBe('changed');
    await expect(migrateUp(db.sql, { dimensions, dir })).rejects.toThrow(/changed after it was applied/);
    await expect(migrateDown(db.sql, { dimensions, dir })).rejects.toThrow(/changed after it was applied/);
  });

  it('keeps halfvec in a database that already holds embeddings, and searches it the same', async () => {
    await migrateDown(db.sql, { dimensions, steps: 99 });
    const dir = mkdtempSync(join(tmpdir(), 'vsdb-migrations-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    for (const f of ['0008_wasm_vectors.up.sql', '0008_wasm_vectors.down.sql']) rmSync(join(dir, f));
    await migrateUp(db.sql, { dimensions, dir });
    expect(await embeddingType()).toBe(`halfvec(${dimensions})`);
    await seedStore(db.sql, { project: 'proj_m', store: 'vs_m', file: 'file_m' });
    const near = Array.from({ length: dimensions }, (_, i) => (i === 0 ? 1 : 0));
    const far = Array.from({ length: dimensions }, (_, i) => (i === 1 ? 1 : 0));
    await insertChunks(db.sql, 'vs_m', 'file_m', [
      { content: 'far', embedding: far },
      { content: 'near', embedding: near },
    ]);
    expect((await migrateUp(db.sql, { dimensions })).map((m) => m.version)).toEqual([8]);
    expect(await embeddingType()).toBe(`halfvec(${dimensions})`);
    const page = await searchChunks(db.sql, {
      projectId: 'proj_m',
      vectorStoreIds: ['vs_m'],
      embedding: near,
      text: null,
      mode: 'vector',
      limit: 2,
      efSearch: 40,
    });
    expect(page.data.map((h) => [h.content, h.score])).toEqual([
      ['near', 1],
      ['far', 0],
    ]);
    await migrateDown(db.sql, { dimensions, steps: 99 });
    await migrateUp(db.sql, { dimensions });
  });

  it('records the dimension and refuses a config that disagrees', async () => {
    await expect(assertDimensions(db.sql, dimensions)).resolves.toBeUndefined();
    await expect(assertDimensions(db.sql, 1536)).rejects.toThrow(
      `EMBEDDING_DIMENSIONS is 1536 but the database was created with ${dimensions}`,
    );
  });

  it('serialises concurrent runners', async () => {
    await migrateDown(db.sql, { dimensions, steps: 99 });
    const [a, b] = await Promise.all([migrateUp(db.sql, { dimensions }), migrateUp(db.sql, { dimensions })]);
    expect(a.length + b.length).toBe(readMigrations().length);
  });
});

// On PGlite (one backend) runners cannot interleave; on a real server each runner here has its own
// connections, so they race for real: on an empty database, down to the bookkeeping table itself.
describe.runIf(isNative)('concurrent runners on separate connections (native)', () => {
  it('apply each migration exactly once, starting from a database without even schema_migrations', async () => {
    const runners = 4;
    const dbs: Database[] = [];
    const fresh = await emptyDatabase(config);
    try {
      const url = withDatabase(nativeUrl(), new URL(fresh.url!).pathname.slice(1));
      for (let i = 0; i < runners; i++) dbs.push(await openDatabase({ ...config, DATABASE_URL: url }));
      const results = await Promise.all(dbs.map((d) => migrateUp(d.sql, { dimensions })));
      expect(
        results
          .flat()
          .map((m) => m.version)
          .sort((x, y) => x - y),
      ).toEqual(readMigrations().map((m) => m.version));
      const status = await Promise.all(dbs.map((d) => migrationStatus(d.sql)));
      for (const s of status) expect(s.every((m) => m.state === 'applied')).toBe(true);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
      await fresh.close();
    }
  });
});
