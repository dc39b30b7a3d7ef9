import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Config } from '../config.ts';
import { lockDataDir } from './lock.ts';

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

export interface Database {
  sql: Sql;
  kind: 'embedded' | 'external';
  /** Dumps the embedded engine's data directory (tests and the bench restore it); absent on an external server. */
  dump?: (compression?: 'none' | 'gzip' | 'auto') => Promise<Blob>;
  /** Answers when the embedded engine's thread does (even while a write holds its connection); embedded only. */
  ping?: () => Promise<void>;
  /** Where the embedded wire server listens (loopback); absent on an external server. */
  url?: string;
  /** Ends the client, then (embedded) the wire server and PGlite, flushing every write to DATA_DIR. */
  close(): Promise<void>;
}

const int8 = { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) };

/** postgres.js options shared by every client of ours. */
export function clientOptions(config: Config): postgres.Options<{ int8: typeof int8 }> {
  return {
    max: config.DATABASE_POOL_MAX,
    idle_timeout: 20,
    connect_timeout: 10,
    // While the database is away, queued queries try to connect one after the other, each after this delay.
    // postgres.js grows it to 20 s, which held requests (and recovery) that long: a small cap keeps the 503s
    // quick and the return prompt, at a few cheap connection attempts a second while it is down.
    backoff: (retries: number) => Math.min((0.5 + Math.random() / 2) * (3 ** retries / 100), 0.2),
    types: { int8 },
    onnotice: () => {},
  };
}

/** MAIA's SQLAlchemy form (postgresql+asyncpg://) names the same server; postgres.js wants postgres://. */
export function normalizeDatabaseUrl(url: string): string {
  return url.replace(/^postgres(ql)?(\+\w+)?:\/\//, 'postgres://');
}

/**
 * Startup parameters a transaction pooler lets through. PgBouncer refuses any other ("unsupported startup
 * parameter") and RDS Proxy is reported to as well, so nothing else may ever be sent at connect time:
 * settings go per transaction or per role (see boundStatements). test/engine-startup.test.ts holds us to it.
 */
export const POOLER_SAFE_STARTUP = ['user', 'database', 'client_encoding', 'application_name'];

/** Connects to DATABASE_URL, or starts the embedded PGlite under DATA_DIR when it is unset. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    const url = normalizeDatabaseUrl(config.DATABASE_URL);
    const sql = boundStatements(
      postgres(url, {
        ...clientOptions(config),
        // Named prepared statements live in one server session, which a transaction pooler (PgBouncer,
        // RDS Proxy) does not keep: "prepared statement ... does not exist". Unnamed ones work everywhere.
        prepare: config.DATABASE_PREPARE === 'auto' ? false : config.DATABASE_PREPARE,
        connection: { application_name: 'vectordb' },
      }) as unknown as Sql,
      config.DATABASE_STATEMENT_TIMEOUT_MS,
    );
    await setRoleStatementTimeout(sql, config.DATABASE_STATEMENT_TIMEOUT_MS);
    return { sql, kind: 'external', close: () => sql.end({ timeout: 5 }) };
  }
  mkdirSync(config.DATA_DIR, { recursive: true });
  const unlock = lockDataDir(config.DATA_DIR);
  try {
    return await openEmbedded(config, { dataDir: join(config.DATA_DIR, 'pgdata') }, unlock);
  } catch (err) {
    unlock();
    throw err;
  }
}

/** Embedded Postgres: PGlite with pgvector, served on loopback so postgres.js speaks to it as to any server. */
export async function openEmbedded(
  config: Config,
  source: { dataDir?: string; snapshot?: Blob },
  onClose: () => void = () => {},
): Promise<Database> {
  // In its own thread (engine.ts), so the engine's work never blocks the requests' event loop.
  const { startEngine } = await import('./engine.ts');
  const engine = await startEngine(source);
  const url = `postgres://postgres@${engine.conn}/postgres`;
  // One connection (so a session SET would reach every later query: use SET LOCAL): PGlite has one backend, and interleaving several clients' extended-protocol messages
  // on it loses portals ("portal does not exist") while a transaction is open. Nothing is lost by it.
  const sql = postgres(url, { ...clientOptions(config), max: 1 }) as unknown as Sql;
  let closed: Promise<void> | undefined;
  return {
    sql,
    kind: 'embedded',
    dump: engine.dump,
    ping: engine.ping,
    url,
    close: () => {
      closed ??= (async () => {
        await sql.end({ timeout: 5 });
        await engine.close();
        onClose();
      })();
      return closed;
    },
  };
}

/**
 * DATABASE_STATEMENT_TIMEOUT_MS without a startup parameter: every transaction begins with a transaction-local
 * statement_timeout, sent in the same pipeline as its first statement (no extra round trip), so a transaction
 * is bounded whatever server connection a pooler gives it.
 */
function boundStatements(sql: Sql, ms: number): Sql {
  const begin = sql.begin.bind(sql) as (...args: unknown[]) => Promise<unknown>;
  const bounded = (...args: unknown[]) => {
    const fn = args.pop() as (tx: Tx) => unknown;
    return begin(...args, async (tx: Tx) => {
      const set = tx`SELECT set_config('statement_timeout', ${String(ms)}, true)`.execute();
      const body = fn(tx);
      const [, result] = await Promise.all([set, Array.isArray(body) ? Promise.all(body) : body]);
      return result;
    });
  };
  return Object.assign(sql, { begin: bounded as Sql['begin'] });
}

/**
 * Statements outside a transaction get the bound as this role's default in this database (ALTER ROLE
 * CURRENT_USER IN DATABASE ...: any role may set its own defaults), written only when it differs, so every
 * new server session starts with it, pooled or not. The session that writes it takes it too: it is the
 * first connection of the pool (or the pooler's server connection it came through). Server connections a
 * pooler opened before a new value was written keep the old default until it recycles them; transactions
 * are bounded regardless. 0 (the Migrator) leaves the default alone.
 */
async function setRoleStatementTimeout(sql: Sql, ms: number): Promise<void> {
  if (ms <= 0) return;
  try {
    await sql.begin(async (tx) => {
      const [row] = await tx<{ has: boolean }[]>`
        SELECT coalesce(${`statement_timeout=${ms}`} = ANY(s.setconfig), false) AS has
        FROM (SELECT 1) one LEFT JOIN pg_db_role_setting s
          ON s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND s.setrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)`;
      if (row?.has) return;
      await tx`SELECT set_config('vectordb.statement_timeout', ${String(ms)}, true)`;
      await tx`DO $$ BEGIN
        EXECUTE format('ALTER ROLE CURRENT_USER IN DATABASE %I SET statement_timeout = %s',
          current_database(), current_setting('vectordb.statement_timeout')::int);
      END $$`;
      // Session-wide (false): this connection opened before the default existed.
      await tx`SELECT set_config('statement_timeout', ${String(ms)}, false)`;
    });
  } catch (err) {
    // Not reachable yet (the caller retries its own queries), or not allowed: transactions stay bounded.
    if (!isConnectionError(err))
      process.emitWarning(
        `DATABASE_STATEMENT_TIMEOUT_MS bounds transactions only: could not make it the role's default (${(err as Error).message})`,
      );
  }
}

/** True when an error means the database could not be reached (as opposed to a bad query). */
export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return (
    typeof code === 'string' &&
    (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ||
      code.startsWith('CONNECT') ||
      code === 'CONNECTION_CLOSED' ||
      code === 'CONNECTION_ENDED' ||
      code === 'CONNECTION_DESTROYED' ||
      code === '57P01' ||
      code === '57P03')
  );
}
