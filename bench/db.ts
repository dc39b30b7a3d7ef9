import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { Config } from '@vsdb/core/config';
import { type Database, normalizeDatabaseUrl, openDatabase, openEmbedded } from '@vsdb/core/db/client';
import { migrateUp } from '@vsdb/core/db/migrate';
import { createLogger } from '@vsdb/core/logger';
import { createServices, type ServerServices } from '@vsdb/core/services';
import postgres from 'postgres';
import { createApp } from '../packages/functions/src/app.ts';
import { testConfig } from '../test/config.ts';

export interface BenchApp {
  url: string;
  config: Config;
  db: Database;
  deps: ServerServices;
  /** Serves the same deps under another config (e.g. another HNSW_EF_SEARCH) on a second port. */
  variant(config: Partial<Config>): Promise<{ url: string; close(): Promise<void> }>;
  close(): Promise<void>;
}

const snapshots = new Map<number, Blob>();

/** Where the bench's databases live: the embedded PGlite, or a native server (--database-url). */
let external: string | undefined;

/**
 * Runs what follows on a native PostgreSQL with pgvector: each database the bench asks for is created on
 * that server (its user needs CREATEDB, and to create the vector extension), migrated, and dropped on close.
 * undefined goes back to PGlite.
 */
export function useDatabaseServer(url: string | undefined): void {
  external = url && normalizeDatabaseUrl(url);
}

async function externalDatabase(url: string, config: Config): Promise<Database> {
  const name = `vsdb_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin`CREATE DATABASE ${admin(name)}`.finally(() => admin.end());
  const target = new URL(url);
  target.pathname = `/${name}`;
  const db = await openDatabase({ ...config, DATABASE_URL: target.toString() });
  await migrateUp(db.sql, { dimensions: config.EMBEDDING_DIMENSIONS });
  return {
    ...db,
    url: target.toString(),
    close: async () => {
      await db.close();
      const drop = postgres(url, { max: 1, onnotice: () => {} });
      await drop`DROP DATABASE IF EXISTS ${drop(name)} WITH (FORCE)`.finally(() => drop.end());
    },
  };
}

/** A fresh, migrated database: in memory (migrated once per dimension, then restored from a dump), or on the server. */
export async function migratedDatabase(config: Config): Promise<Database> {
  if (external) return externalDatabase(external, config);
  const snapshot = snapshots.get(config.EMBEDDING_DIMENSIONS);
  if (snapshot) return openEmbedded(config, { snapshot });
  const db = await openEmbedded(config, {});
  await migrateUp(db.sql, { dimensions: config.EMBEDDING_DIMENSIONS });
  snapshots.set(config.EMBEDDING_DIMENSIONS, await db.dump!('none'));
  return db;
}

/** The real app (`npm start`'s wiring) on a real loopback port over a fresh embedded database. */
export async function startBenchApp(env: Record<string, string>): Promise<BenchApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vsdb-bench-'));
  const config = testConfig({ DATA_DIR: dataDir, ...env });
  const db = await migratedDatabase(config);
  const deps = await createServices(config, 'server', {
    db,
    logger: createLogger({ level: config.LOG_LEVEL }),
  });
  deps.worker.start();
  const main = await listen(deps);
  return {
    url: main.url,
    config,
    db,
    deps,
    variant: (overrides) => listen({ ...deps, config: { ...config, ...overrides } }),
    close: async () => {
      await main.close();
      await deps.worker.stop();
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The app of `app` again, its database reached at `databaseUrl` (another route to the same database, e.g.
 * through a counting proxy), with services of its own and no worker: only what requests do goes that way.
 */
export async function serveThrough(
  app: BenchApp,
  databaseUrl: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const db = await openDatabase({ ...app.config, DATABASE_URL: databaseUrl });
  const deps = await createServices(app.config, 'server', {
    db,
    logger: createLogger({ level: app.config.LOG_LEVEL }),
  });
  const server = await listen(deps);
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await db.close();
    },
  };
}

async function listen(deps: ServerServices): Promise<{ url: string; close(): Promise<void> }> {
  const server = serve({ fetch: createApp(deps).fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
