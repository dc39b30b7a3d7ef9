import type { BlobStore } from '../blobs/store.ts';
import type { Config } from '../config.ts';
import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import { deleteFile, insertFile, type StoredBlob } from '../files/service.ts';
import { visibleChunk } from '../ingest/chunk-write.ts';
import type { JobRunner } from '../ingest/queue.ts';
import type { Attributes } from '../schemas.ts';
import { attachAndIngest } from '../vector-store-files/attach.ts';
import type { StructuredColumn } from './csv.ts';
import type { MaiaFile, MaiaFileDeleted, MaiaFileList, MaiaListQuery } from './schemas.ts';
import { getMaiaStore } from './stores.ts';

/** MAIA's chunking: 800 tokens with 200 of overlap. */
export const MAIA_CHUNKING = {
  type: 'static',
  static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 200 },
} as const;

// MAIA's CONTENT_TYPE_MAP: the content type it reports, by extension.
const CONTENT_TYPES: Record<string, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  json: 'application/json',
  html: 'text/html',
  htm: 'text/html',
  csv: 'text/csv',
  xml: 'application/xml',
  yaml: 'application/x-yaml',
  yml: 'application/x-yaml',
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
};

/** The content type MAIA reports for a name: by extension, `text/plain` without one, else null. */
export function maiaContentType(filename: string): string | null {
  const dot = filename.lastIndexOf('.');
  if (dot === -1) return 'text/plain';
  return CONTENT_TYPES[filename.slice(dot + 1).toLowerCase()] ?? null;
}

interface FileRow {
  file_id: string;
  vector_store_id: string;
  status: MaiaFile['status'];
  attributes: Record<string, unknown>;
  filename: string;
  bytes: number;
  purpose: string;
  created_at: Date;
  chunk_count: number;
  columns: StructuredColumn[] | null;
  row_count: number | null;
  last_error: { code: string; message: string } | null;
}

function toMaiaFile(r: FileRow): MaiaFile {
  const attributes: Record<string, unknown> = { ...r.attributes };
  if (r.columns)
    attributes.structured = { table_name: 'csv_rows', row_count: r.row_count, columns: r.columns };
  return {
    id: r.file_id,
    object: 'vector_store.file',
    vector_store_id: r.vector_store_id,
    filename: r.filename,
    status: r.status,
    bytes: Number(r.bytes),
    chunk_count: r.chunk_count,
    content_type: maiaContentType(r.filename),
    attributes: Object.keys(attributes).length ? attributes : null,
    purpose: r.purpose,
    created_at: Math.floor(r.created_at.getTime() / 1000),
  };
}

const fileSelect = (sql: Sql) => sql`
  SELECT v.file_id, v.vector_store_id, v.status, v.attributes, v.last_error, f.filename, f.bytes, f.purpose,
         f.created_at, s.columns, s.row_count,
         (SELECT count(*)::int FROM chunks c WHERE c.vector_store_id = v.vector_store_id AND c.file_id = v.file_id
            AND ${visibleChunk(sql, sql`c`)}) AS chunk_count
  FROM vector_store_files v JOIN files f ON f.id = v.file_id
  LEFT JOIN structured_files s ON s.file_id = v.file_id`;

async function fileRow(sql: Sql, projectId: string, storeId: string, fileId: string): Promise<FileRow> {
  await getMaiaStore(sql, projectId, storeId);
  const [row] = await sql<FileRow[]>`${fileSelect(sql)}
    WHERE v.project_id = ${projectId} AND v.vector_store_id = ${storeId} AND v.file_id = ${fileId}`;
  if (!row) throw new ApiError('not_found', 'File not found', 'file_id');
  return row;
}

export async function getMaiaFile(
  sql: Sql,
  projectId: string,
  storeId: string,
  fileId: string,
): Promise<MaiaFile> {
  return toMaiaFile(await fileRow(sql, projectId, storeId, fileId));
}

export async function listMaiaFiles(
  sql: Sql,
  projectId: string,
  storeId: string,
  q: MaiaListQuery,
): Promise<MaiaFileList> {
  await getMaiaStore(sql, projectId, storeId);
  const order =
    q.order === 'asc' ? sql`v.created_at ASC, v.file_id ASC` : sql`v.created_at DESC, v.file_id DESC`;
  const rows = await sql<FileRow[]>`${fileSelect(sql)}
    WHERE v.project_id = ${projectId} AND v.vector_store_id = ${storeId}
    ORDER BY ${order} LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
  const data = rows.slice(0, q.limit).map(toMaiaFile);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: rows.length > q.limit,
  };
}

export interface UploadContext {
  sql: Sql;
  blobs: BlobStore;
  jobs: JobRunner;
  config: Config;
}

/**
 * MAIA's upload into a store: records the stored bytes as a file, attaches it with MAIA's chunking and
 * ingests it (within the request when small). A file that cannot be read answers 400 and leaves
 * nothing behind (MAIA reads it before creating any record); one whose processing failed answers 502
 * and stays listed as `failed`, as in MAIA.
 */
export async function uploadMaiaFile(
  ctx: UploadContext,
  projectId: string,
  storeId: string,
  stored: StoredBlob,
  meta: { filename: string; attributes: Record<string, unknown> | null },
): Promise<MaiaFile> {
  const { sql, blobs } = ctx;
  const created = await insertFile(sql, blobs, projectId, stored, {
    filename: meta.filename,
    purpose: 'assistants',
    mimeType: maiaContentType(meta.filename),
  });
  try {
    await attachAndIngest(ctx, projectId, storeId, [
      {
        fileId: created.id,
        attributes: meta.attributes as Attributes | null,
        chunkingStrategy: MAIA_CHUNKING,
      },
    ]);
  } catch (err) {
    await deleteFile(sql, blobs, projectId, created.id).catch(() => {});
    throw err;
  }
  const row = await fileRow(sql, projectId, storeId, created.id);
  if (row.status === 'failed') {
    const code = row.last_error?.code;
    if (code === 'invalid_file' || code === 'unsupported_file') {
      await deleteMaiaFile(sql, blobs, projectId, storeId, created.id);
      throw new ApiError('invalid_request', row.last_error!.message, 'file');
    }
    throw new ApiError('embedding_error', 'File processing failed', 'file');
  }
  return toMaiaFile(row);
}

/** Removes a file from the store, and the file itself once no other store holds it. */
export async function deleteMaiaFile(
  sql: Sql,
  blobs: BlobStore,
  projectId: string,
  storeId: string,
  fileId: string,
): Promise<MaiaFileDeleted> {
  await getMaiaStore(sql, projectId, storeId);
  const gone = await sql`
    DELETE FROM vector_store_files WHERE project_id = ${projectId} AND vector_store_id = ${storeId} AND file_id = ${fileId}
    RETURNING file_id`;
  if (!gone.length) throw new ApiError('not_found', 'File not found', 'file_id');
  const [still] = await sql<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM vector_store_files WHERE file_id = ${fileId}`;
  if (!still?.n) await deleteFile(sql, blobs, projectId, fileId).catch(() => {});
  return { id: fileId, object: 'vector_store.file.deleted', deleted: true };
}
