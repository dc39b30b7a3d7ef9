import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, watch } from 'node:fs';
import type { Config } from '@vsdb/core/config';
import { type Database, openDatabase, openEmbedded } from '@vsdb/core/db/client';
import { inject } from 'vitest';
import { testConfig } from './config.ts';
import { cloneTemplate, engine, isNative, nativeUrl, poolerUrl, withDatabase } from './engine.ts';

let snapshot: Blob | undefined;

/**
 * A fresh, migrated database for one test. On PGlite (npm test) an in-memory copy restored from the suite's
 * snapshot; on the native engines (npm run test:engines) a database cloned from the migrated template,
 * reached directly or through PgBouncer, and dropped on close. `url` names it either way.
 */
export async function freshDatabase(config: Config = testConfig()): Promise<Database> {
  if (!isNative) {
    snapshot ??= new Blob([readFileSync(inject('snapshotPath'))]);
    return openEmbedded(config, { snapshot });
  }
  return nativeDatabase(config, inject('templateDb'));
}

/** A database with nothing in it yet (not migrated), on the engine of this test process. */
export async function emptyDatabase(config: Config = testConfig()): Promise<Database> {
  return isNative ? nativeDatabase(config) : openEmbedded(config, {});
}

async function nativeDatabase(config: Config, template?: string): Promise<Database> {
  const clone = await cloneTemplate(template);
  const url = withDatabase(engine === 'pgbouncer' ? poolerUrl() : nativeUrl(), clone.name);
  const db = await openDatabase({ ...config, DATABASE_URL: url });
  return {
    ...db,
    url,
    close: async () => {
      await db.close();
      await clone.drop();
    },
  };
}

/** The direct (not pooled) URL of a database freshDatabase made on a native engine: for superuser-only steps. */
export function directUrl(db: Database): string {
  return withDatabase(nativeUrl(), new URL(db.url!).pathname.slice(1));
}

/**
 * A list that grows as things happen (answers, outcomes), which a test can wait on: `until(pred)` resolves as
 * soon as an added item makes `pred` true. Tests wait on these events, never on the clock; a wait that never
 * ends is caught by the test's own timeout.
 */
export class EventLog<T> {
  readonly items: T[] = [];
  private waiters: { pred: (items: T[]) => boolean; resolve: () => void }[] = [];

  push(item: T): void {
    this.items.push(item);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(this.items)) return true;
      w.resolve();
      return false;
    });
  }

  until(pred: (items: T[]) => boolean): Promise<void> {
    if (pred(this.items)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
}

/** Resolves once `dir` is empty or gone, woken by the directory's own change events (no polling). */
export async function emptied(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const watcher = watch(dir);
  try {
    // The watcher exists before each look, so a removal after the look is an event still to come.
    while (existsSync(dir) && readdirSync(dir).length > 0) await once(watcher, 'change');
  } finally {
    watcher.close();
  }
}
