import type { BlobStore } from '../blobs/store.ts';
import type { Sql, Tx } from '../db/client.ts';
import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { paginate } from '../pagination.ts';
import { isMediaType, type ListPage, listPage, unix } from '../schemas.ts';
import type { FileListParams, FileObject } from './schemas.ts';

interface FileRow {
  id: string;
  filename: string;
  bytes: number;
  purpose: string;
  mime_type: string | null;
  blob_key: string;
  created_at: Date;
  expires_at: Date | null;
}

const toFile = (r: FileRow): FileObject => ({
  id: r.id,
  object: 'file',
  bytes: r.bytes,
  created_at: unix(r.created_at)!,
  filename: r.filename,
  purpose: r.purpose,
  status: 'processed',
  // The spec types expires_at as an integer when present: a file that never expires has none.
  ...(r.expires_at ? { expires_at: unix(r.expires_at)! } : {}),
});

const live = (sql: Sql) => sql`(expires_at IS NULL OR expires_at > now())`;

export interface StoredBlob {
  id: string;
  blobKey: string;
  bytes: number;
}

export interface FileMeta {
  filename: string;
  purpose: string;
  mimeType?: string | null;
  expiresAfterSeconds?: number;
}

/** Streams bytes into the blob store under a new file id, refusing past maxBytes. Nothing is recorded yet. */
export async function storeBlob(
  blobs: BlobStore,
  projectId: string,
  body: AsyncIterable<Uint8Array> | Uint8Array,
  maxBytes: number,
): Promise<StoredBlob> {
  const id = newId('file-');
  const blobKey = `${projectId}/${id}`;
  const { bytes } = await blobs.put(blobKey, body, { maxBytes });
  return { id, blobKey, bytes };
}

/** Records a stored blob as a file; if that fails, the blob is removed again. */
export async function insertFile(
  sql: Sql | Tx,
  blobs: BlobStore,
  projectId: string,
  stored: StoredBlob,
  meta: FileMeta,
): Promise<FileObject> {
  try {
    const expires = meta.expiresAfterSeconds;
    const [row] = await sql<FileRow[]>`
      INSERT INTO files (id, project_id, filename, bytes, purpose, mime_type, blob_key, expires_at)
      VALUES (${stored.id}, ${projectId}, ${meta.filename}, ${stored.bytes}, ${meta.purpose}, ${meta.mimeType ?? null},
              ${stored.blobKey}, ${expires === undefined ? null : sql`now() + make_interval(secs => ${expires})`})
      RETURNING *`;
    return toFile(row!);
  } catch (err) {
    await blobs.delete(stored.blobKey);
    throw err;
  }
}

/** The stored row of a live file in the project, or a 404. */
export async function getFileRow(
  sql: Sql,
  projectId: string,
  id: string,
  param = 'file_id',
): Promise<FileRow> {
  const [row] = await sql<
    FileRow[]
  >`SELECT * FROM files WHERE id = ${id} AND project_id = ${projectId} AND ${live(sql)}`;
  if (!row) throw notFound('file', id, param);
  return row;
}

export async function getFile(sql: Sql, projectId: string, id: string): Promise<FileObject> {
  return toFile(await getFileRow(sql, projectId, id));
}

/**
 * Where a file's bytes are read: a short-lived URL when the blob store can sign one (S3: the SDKs follow the
 * redirect, whatever the size, past Lambda's response cap), else the bytes themselves as a stream.
 */
export async function fileContent(
  sql: Sql,
  blobs: BlobStore,
  projectId: string,
  id: string,
): Promise<
  { url: string } | { body: ReadableStream<Uint8Array>; bytes: number; type: string; disposition: string }
> {
  const row = await getFileRow(sql, projectId, id);
  // Checked when it arrives; a type stored before that check could not be sent as a header.
  const type = row.mime_type && isMediaType(row.mime_type) ? row.mime_type : 'application/octet-stream';
  const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(row.filename)}`;
  if (blobs.presignGet) {
    return {
      url: await blobs.presignGet(row.blob_key, { contentType: type, contentDisposition: disposition }),
    };
  }
  return { body: blobs.stream(row.blob_key), bytes: row.bytes, type, disposition };
}

export async function listFiles(
  sql: Sql,
  projectId: string,
  q: FileListParams,
): Promise<ListPage<FileObject>> {
  const purpose = q.purpose === undefined ? sql`true` : sql`purpose = ${q.purpose}`;
  const { rows, hasMore } = await paginate(
    sql,
    q,
    { createdAt: sql`created_at`, id: sql`id` },
    (id) => sql`SELECT created_at, id FROM files WHERE id = ${id} AND project_id = ${projectId}`,
    (where, order, limit) => sql<FileRow[]>`
      SELECT * FROM files WHERE project_id = ${projectId} AND ${live(sql)} AND ${purpose} AND ${where}
      ORDER BY ${order} LIMIT ${limit}`,
  );
  return listPage(rows.map(toFile), hasMore);
}

/** Deletes a file everywhere: its attachments and chunks go in the same transaction, its blob right after. */
export async function deleteFile(sql: Sql, blobs: BlobStore, projectId: string, id: string) {
  const row = await getFileRow(sql, projectId, id);
  await sql.begin(async (tx) => {
    await tx`DELETE FROM files WHERE id = ${id} AND project_id = ${projectId}`;
    await tx`INSERT INTO deleted_blobs (blob_key) VALUES (${row.blob_key}) ON CONFLICT DO NOTHING`;
  });
  await purgeBlob(sql, blobs, row.blob_key);
  return { id, object: 'file' as const, deleted: true as const };
}

/** Removes a deleted file's bytes; if this fails, maintenance finds the key in deleted_blobs and tries again. */
export async function purgeBlob(sql: Sql, blobs: BlobStore, blobKey: string): Promise<void> {
  try {
    await blobs.delete(blobKey);
    await sql`DELETE FROM deleted_blobs WHERE blob_key = ${blobKey}`;
  } catch {
    // left for maintenance
  }
}

/** Purges every deleted blob now: for a server that holds DATA_DIR alone, at start, after a crash. */
export async function purgeAllDeletedBlobs(sql: Sql, blobs: BlobStore): Promise<number> {
  const rows = await sql<{ blob_key: string }[]>`SELECT blob_key FROM deleted_blobs`;
  for (const { blob_key } of rows) await purgeBlob(sql, blobs, blob_key);
  return rows.length;
}
