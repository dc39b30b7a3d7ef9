import type { Sql, Tx } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { PageStart } from '../ingest/chunk.ts';
import { type ParsedCsv, parseStructuredCsv, type StructuredColumn } from './csv.ts';
import type { StructuredRow } from './structured-engine.ts';

/** What a file's ingestion keeps beside its chunks, written in the same transaction. */
export async function saveDerived(
  tx: Tx,
  fileId: string,
  filename: string,
  extracted: { text: string; pages: PageStart[] | null },
  /** A CSV's rows, parsed already (ingestion does it in its worker thread); parsed here when undefined. */
  csv?: ParsedCsv | null,
): Promise<void> {
  const pages = extracted.pages ? tx.json(extracted.pages) : null;
  // In parts of a statement each (file_text_parts, migration 0007): the embedded engine answers between two.
  const [first = '', ...rest] = textParts(extracted.text);
  await tx`
    INSERT INTO file_texts (file_id, text, pages) VALUES (${fileId}, ${first}, ${pages})
    ON CONFLICT (file_id) DO UPDATE SET text = EXCLUDED.text, pages = EXCLUDED.pages`;
  await tx`DELETE FROM file_text_parts WHERE file_id = ${fileId}`;
  for (const [i, text] of rest.entries())
    await tx`INSERT INTO file_text_parts (file_id, part, text) VALUES (${fileId}, ${i + 1}, ${text})`;
  if (!/\.csv$/i.test(filename)) return;
  const parsed = csv === undefined ? parseStructuredCsv(extracted.text) : csv;
  await tx`DELETE FROM structured_files WHERE file_id = ${fileId}`;
  if (!parsed) return;
  await tx`
    INSERT INTO structured_files (file_id, columns, row_count)
    VALUES (${fileId}, ${tx.json(parsed.columns as never)}, ${parsed.rows.length})`;
  for (let i = 0; i < parsed.rows.length; i += 1000) {
    const batch = parsed.rows
      .slice(i, i + 1000)
      .map((data, j) => ({ file_id: fileId, row_id: i + j + 1, data: tx.json(data as never) }));
    await tx`INSERT INTO structured_rows ${tx(batch)}`;
  }
}

const TEXT_PART_CHARS = 1 << 20;

/** The text in parts of at most TEXT_PART_CHARS, never splitting a surrogate pair. */
export function textParts(text: string): string[] {
  const parts: string[] = [];
  for (let at = 0; at < text.length || parts.length === 0; ) {
    let end = Math.min(at + TEXT_PART_CHARS, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end--;
    parts.push(text.slice(at, end));
    at = end;
  }
  return parts;
}

/** `attributes.structured` as MAIA reports it for a CSV file with rows. */
export type StructuredMeta = { table_name: 'csv_rows'; row_count: number; columns: StructuredColumn[] };

/** The structured metadata of the given files, by file id (files without rows are absent). */
export async function structuredMeta(
  sql: Sql,
  fileIds: readonly string[],
): Promise<Map<string, StructuredMeta>> {
  if (fileIds.length === 0) return new Map();
  const rows = await sql<{ file_id: string; columns: StructuredColumn[]; row_count: number }[]>`
    SELECT file_id, columns, row_count FROM structured_files WHERE file_id IN ${sql(fileIds)}`;
  return new Map(
    rows.map((r) => [r.file_id, { table_name: 'csv_rows', row_count: r.row_count, columns: r.columns }]),
  );
}

/** Rows of the completed structured files attached to a store (one file if `fileId` is given). */
export async function loadStructuredRows(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  fileId?: string,
): Promise<StructuredRow[]> {
  const rows = await sql<{ file_id: string; row_id: number; data: Record<string, unknown> }[]>`
    SELECT r.file_id, r.row_id, r.data
    FROM structured_rows r
    JOIN vector_store_files vsf ON vsf.file_id = r.file_id
    WHERE vsf.project_id = ${projectId} AND vsf.vector_store_id = ${vectorStoreId} AND vsf.status = 'completed'
      ${fileId ? sql`AND r.file_id = ${fileId}` : sql``}
    ORDER BY r.file_id, r.row_id`;
  return rows.map((r) => ({ fileId: r.file_id, rowId: r.row_id, data: r.data }));
}

/** MAIA's preview: column metadata and the first `limit` rows of one structured file. */
export async function previewStructuredFile(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  fileId: string,
  limit: number,
) {
  const [file] = await sql<{ columns: StructuredColumn[] | null; row_count: number | null }[]>`
    SELECT s.columns, s.row_count
    FROM vector_store_files vsf LEFT JOIN structured_files s ON s.file_id = vsf.file_id
    WHERE vsf.project_id = ${projectId} AND vsf.vector_store_id = ${vectorStoreId} AND vsf.file_id = ${fileId}`;
  if (!file) throw new ApiError('not_found', 'File not found', 'file_id');
  if (!file.columns)
    throw new ApiError('invalid_request', 'File does not contain structured CSV data.', 'file_id');
  const rows = await sql<{ data: Record<string, unknown> }[]>`
    SELECT data FROM structured_rows WHERE file_id = ${fileId} ORDER BY row_id LIMIT ${limit}`;
  return { columns: file.columns, rows: rows.map((r) => r.data), total_rows: file.row_count ?? 0 };
}
