import { z } from 'zod';
import type { Sql } from '../db/client.ts';
import { loadStructuredRows, previewStructuredFile } from './derived.ts';
import { getMaiaFile } from './files.ts';
import { MAX_SQL_LENGTH } from './sql-prepare.ts';
import { getMaiaStore } from './stores.ts';
import { type QueryResult, runStructuredQuery } from './structured-engine.ts';

/** MAIA's QueryRequest. */
export const MaiaQueryRequest = z.object({ sql: z.string().max(MAX_SQL_LENGTH) });
/** MAIA's preview query: `limit` 1..500, 50 by default. */
export const MaiaPreviewQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

/**
 * Runs a read-only SELECT over the CSV rows of a store's completed files (or of one file): the
 * engine is loaded with those rows only, so no query can see another store's or another file's.
 */
export async function queryStructured(
  sql: Sql,
  projectId: string,
  storeId: string,
  query: string,
  fileId?: string,
): Promise<QueryResult> {
  if (fileId) await getMaiaFile(sql, projectId, storeId, fileId);
  else await getMaiaStore(sql, projectId, storeId);
  const rows = await loadStructuredRows(sql, projectId, storeId, fileId);
  return runStructuredQuery(rows, query);
}

/** MAIA's preview of one CSV file: its columns, the first rows, how many rows it has. */
export async function previewStructured(
  sql: Sql,
  projectId: string,
  storeId: string,
  fileId: string,
  limit: number,
) {
  await getMaiaStore(sql, projectId, storeId);
  return previewStructuredFile(sql, projectId, storeId, fileId, limit);
}
