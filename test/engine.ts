import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

// Which engine a test file runs on. The `pglite` project (npm test) runs everything on the embedded PGlite;
// the `native` and `pgbouncer` projects (npm run test:engines) run the database tests on a real PostgreSQL
// with pgvector (TEST_DATABASE_URL, a superuser URL: scripts/postgres.sh prints one), the second through
// PgBouncer in transaction mode (TEST_POOLER_URL). Each test file gets its own database, cloned from a
// template the global setup migrated once.

export type EngineName = 'pglite' | 'native' | 'pgbouncer';

const env = process.env;
/** The engine of this test process: vitest's project sets TEST_ENGINE. */
export const engine: EngineName =
  env.TEST_ENGINE === 'native' || env.TEST_ENGINE === 'pgbouncer' ? env.TEST_ENGINE : 'pglite';
export const isNative = engine !== 'pglite';

export function nativeUrl(): string {
  const url = env.TEST_DATABASE_URL;
  if (!url)
    throw new Error(
      'TEST_DATABASE_URL is not set: run `bash scripts/postgres.sh` (as root) and export the URLs it prints ' +
        'as TEST_DATABASE_URL and TEST_POOLER_URL.',
    );
  return url;
}

export function poolerUrl(): string {
  const url = env.TEST_POOLER_URL;
  if (!url)
    throw new Error('TEST_POOLER_URL is not set (the PgBouncer URL scripts/postgres.sh prints second)');
  return url;
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Test databases are named for the process that made them, so a later run can drop what a killed one left. */
export const DB_PREFIX = 'vsdb_test_';
export const dbName = (kind: 'tpl' | 'db') =>
  `${DB_PREFIX}${kind}_${process.pid}_${randomBytes(4).toString('hex')}`;

/** A short-lived superuser connection to the cluster's `postgres` database. */
export function admin(): postgres.Sql {
  return postgres(nativeUrl(), { max: 1, onnotice: () => {}, connect_timeout: 10 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Drops the test databases of processes that are gone (a run killed before its teardown). */
export async function dropOrphans(sql: postgres.Sql): Promise<void> {
  const rows = await sql<{ datname: string }[]>`
    SELECT datname FROM pg_database WHERE datname LIKE ${`${DB_PREFIX}%`}`;
  for (const { datname } of rows) {
    const pid = Number(/_(\d+)_[0-9a-f]+$/.exec(datname)?.[1]);
    if (pid && !alive(pid)) await sql`DROP DATABASE IF EXISTS ${sql(datname)} WITH (FORCE)`.catch(() => {});
  }
}

/** A new database, cloned from `template` (the migrated one) or empty; `drop` removes it (and ends its sessions). */
export async function cloneTemplate(template?: string): Promise<{ name: string; drop(): Promise<void> }> {
  const name = dbName('db');
  const sql = admin();
  try {
    // Two clones of one template at the same moment can collide ("source database is being accessed").
    for (let attempt = 0; ; attempt++) {
      try {
        await (template
          ? sql`CREATE DATABASE ${sql(name)} TEMPLATE ${sql(template)}`
          : sql`CREATE DATABASE ${sql(name)}`);
        break;
      } catch (err) {
        if ((err as { code?: string }).code !== '55006' || attempt > 50) throw err;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  } finally {
    await sql.end();
  }
  return {
    name,
    drop: async () => {
      const s = admin();
      await s`DROP DATABASE IF EXISTS ${s(name)} WITH (FORCE)`.finally(() => s.end());
    },
  };
}

/** The same database and credentials, reached through a local proxy's port. */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}
