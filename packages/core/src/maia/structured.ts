import type { Sql } from '../db/client.ts';
import { loadStructuredRows, previewStructuredFile } from './derived.ts';
import { getMaiaFile } from './files.ts';
import type { MaiaPreviewResponse, MaiaQueryResponse } from './schemas.ts';
import { getMaiaStore } from './stores.ts';
import { runStructuredQuery } from './structured-engine.ts';

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
): Promise<MaiaQueryResponse> {
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
): Promise<MaiaPreviewResponse> {
  await getMaiaStore(sql, projectId, storeId);
  return previewStructuredFile(sql, projectId, storeId, fileId, limit);
}
