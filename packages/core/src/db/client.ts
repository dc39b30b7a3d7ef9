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

/** Connects to DATABASE_URL, or starts the embedded PGlite under DATA_DIR when it is unset. */
export async function openDatabase(config: Config): Promise<Database> {
  if (config.DATABASE_URL) {
    const sql = postgres(normalizeDatabaseUrl(config.DATABASE_URL), {
      ...clientOptions(config),
      prepare: config.DATABASE_PREPARE,
      connection: { statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS, application_name: 'vectordb' },
    }) as unknown as Sql;
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
