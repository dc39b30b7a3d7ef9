import { migrateUp } from '@vsdb/core/db/migrate';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { testConfig } from './config.ts';
import { admin, dbName, dropOrphans, nativeUrl, withDatabase } from './engine.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
  }
}

/** Migrates one template database on the native server; each test file clones it (CREATE DATABASE ... TEMPLATE). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const config = testConfig();
  const sql = admin();
  const template = dbName('tpl');
  try {
    await dropOrphans(sql);
    await sql`CREATE DATABASE ${sql(template)}`;
  } finally {
    await sql.end();
  }
  const tpl = postgres(withDatabase(nativeUrl(), template), { max: 1, onnotice: () => {} });
  try {
    await migrateUp(tpl as never, { dimensions: config.EMBEDDING_DIMENSIONS });
  } finally {
    await tpl.end();
  }
  project.provide('templateDb', template);
  return async () => {
    const s = admin();
    await s`DROP DATABASE IF EXISTS ${s(template)} WITH (FORCE)`.finally(() => s.end());
  };
}
