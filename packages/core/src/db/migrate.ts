import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql, Tx } from './client.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../migrations/', import.meta.url));

// Any constant will do; it only has to be the same in every runner of this schema.
const LOCK_KEY = 7_316_402_113;

export interface Migration {
  version: number;
  name: string;
  up: string;
  down: string;
  checksum: string;
}

export interface MigrationStatus {
  version: number;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'missing';
  applied_at: Date | null;
}

export interface MigrateOptions {
  dimensions: number;
  dir?: string;
}

/** Reads NNNN_name.up.sql / NNNN_name.down.sql pairs in version order. */
export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir);
  const migrations: Migration[] = [];
  for (const file of files.filter((f) => f.endsWith('.up.sql')).sort()) {
    const match = /^(\d+)_(.+)\.up\.sql$/.exec(file);
    if (!match) throw new Error(`Migration file ${file} is not named NNNN_name.up.sql`);
    const downFile = file.replace(/\.up\.sql$/, '.down.sql');
    if (!files.includes(downFile)) throw new Error(`Migration ${file} has no ${downFile}`);
    const up = readFileSync(join(dir, file), 'utf8');
    const down = readFileSync(join(dir, downFile), 'utf8');
    const checksum = createHash('sha256').update(up).update('\0').update(down).digest('hex');
    migrations.push({ version: Number(match[1]), name: match[2]!, up, down, checksum });
  }
  return migrations;
}

/** Fills the template values a migration may use (the embedding dimension is fixed at schema creation). */
function render(text: string, opts: MigrateOptions): string {
  return text.replaceAll('{{EMBEDDING_DIMENSIONS}}', String(opts.dimensions));
}

/**
 * Runs `fn` in one transaction that first takes the migration lock, then makes sure the bookkeeping table
 * exists: two runners never race on CREATE TABLE (concurrent CREATE ... IF NOT EXISTS can fail on the
 * catalog's unique index). Transaction-scoped, so it holds behind a transaction pooler too; migrations may
 * build indexes for a long time, so no statement timeout applies inside.
 */
async function locked<T>(sql: Sql, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`SELECT set_config('statement_timeout', '0', true)`;
    await tx`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version    integer PRIMARY KEY,
        name       text NOT NULL,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`;
    return fn(tx);
  }) as Promise<T>;
}

type Applied = { version: number; name: string; checksum: string; applied_at: Date };

async function applied(sql: Sql | Tx): Promise<Applied[]> {
  return sql<Applied[]>`SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version`;
}

/** Every migration, applied or not, and whether its file changed after it was applied. */
export async function migrationStatus(sql: Sql, dir = MIGRATIONS_DIR): Promise<MigrationStatus[]> {
  const done = new Map((await locked(sql, (tx) => applied(tx))).map((a) => [a.version, a]));
  const out: MigrationStatus[] = readMigrations(dir).map((m) => {
    const a = done.get(m.version);
    done.delete(m.version);
    const state = !a ? 'pending' : a.checksum === m.checksum ? 'applied' : 'changed';
    return { version: m.version, name: m.name, state, applied_at: a?.applied_at ?? null };
  });
  for (const a of done.values())
    out.push({ version: a.version, name: a.name, state: 'missing', applied_at: a.applied_at });
  return out.sort((x, y) => x.version - y.version);
}

function assertUnchanged(done: Applied[], migrations: Migration[]): void {
  for (const a of done) {
    const m = migrations.find((x) => x.version === a.version);
    if (!m) throw new Error(`Migration ${a.version}_${a.name} is applied but its file is missing`);
    if (m.checksum !== a.checksum) {
      throw new Error(
        `Migration ${a.version}_${a.name} changed after it was applied (checksum differs); add a new migration instead`,
      );
    }
  }
}

/** Applies every pending migration, one transaction each, under an advisory lock. Returns what it applied. */
export async function migrateUp(sql: Sql, opts: MigrateOptions): Promise<Migration[]> {
  const migrations = readMigrations(opts.dir);
  const done: Migration[] = [];
  for (;;) {
    const next = await locked(sql, async (tx) => {
      const have = await applied(tx);
      assertUnchanged(have, migrations);
      const m = migrations.find((x) => !have.some((a) => a.version === x.version));
      if (!m) return null;
      await tx.unsafe(render(m.up, opts));
      await tx`INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, ${m.name}, ${m.checksum})`;
      return m;
    });
    if (!next) return done;
    done.push(next);
  }
}

/** Rolls back the last `steps` applied migrations, newest first. Returns what it rolled back. */
export async function migrateDown(sql: Sql, opts: MigrateOptions & { steps?: number }): Promise<Migration[]> {
  const migrations = readMigrations(opts.dir);
  const done: Migration[] = [];
  for (let i = 0; i < (opts.steps ?? 1); i++) {
    const last = await locked(sql, async (tx) => {
      const have = await applied(tx);
      assertUnchanged(have, migrations);
      const top = have.at(-1);
      if (!top) return null;
      const m = migrations.find((x) => x.version === top.version)!;
      await tx.unsafe(render(m.down, opts));
      await tx`DELETE FROM schema_migrations WHERE version = ${m.version}`;
      return m;
    });
    if (!last) break;
    done.push(last);
  }
  return done;
}

/** The SQL `up` would run, for applying offline (like `alembic upgrade head --sql`). */
export async function pendingSql(sql: Sql, opts: MigrateOptions): Promise<string> {
  const [{ exists }] = (await sql`SELECT to_regclass('schema_migrations') IS NOT NULL AS exists`) as [
    { exists: boolean },
  ];
  const have = exists ? await applied(sql) : [];
  const migrations = readMigrations(opts.dir);
  assertUnchanged(have, migrations);
  const parts = migrations
    .filter((m) => !have.some((a) => a.version === m.version))
    .map(
      (m) =>
        `-- ${m.version}_${m.name}\nBEGIN;\n${render(m.up, opts).trim()}\n` +
        `INSERT INTO schema_migrations (version, name, checksum) VALUES (${m.version}, '${m.name.replaceAll("'", "''")}', '${m.checksum}');\nCOMMIT;\n`,
    );
  const table = exists
    ? ''
    : 'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, ' +
      'checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());\n\n';
  return table + parts.join('\n');
}

/** Refuses to run against a schema whose embedding dimension differs from the config. */
export async function assertDimensions(sql: Sql, dimensions: number): Promise<void> {
  const [row] = await sql<{ value: string }[]>`SELECT value FROM settings WHERE key = 'embedding_dimensions'`;
  if (row && Number(row.value) !== dimensions) {
    throw new Error(
      `EMBEDDING_DIMENSIONS is ${dimensions} but the database was created with ${row.value}: ` +
        `set EMBEDDING_DIMENSIONS=${row.value}, or use a new database (DATA_DIR or DATABASE_URL).`,
    );
  }
}
