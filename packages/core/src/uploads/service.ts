import { createHash, type Hash } from 'node:crypto';
import type { BlobStore } from '../blobs/store.ts';
import type { Sql, Tx } from '../db/client.ts';
import { ApiError, notFound } from '../errors.ts';
import type { FileObject } from '../files/schemas.ts';
import { getFile, insertFile, purgeBlob } from '../files/service.ts';
import { newId } from '../ids.ts';
import { UPLOAD_MAX_PARTS, UPLOAD_PART_MAX_BYTES, UPLOAD_TTL_SECONDS } from '../limits.ts';
import { unix } from '../schemas.ts';
import type { UploadCompleteParams, UploadCreateParams, UploadObject, UploadPartObject } from './schemas.ts';

interface UploadRow {
  id: string;
  project_id: string;
  filename: string;
  purpose: string;
  bytes: number;
  mime_type: string;
  status: UploadObject['status'];
  file_id: string | null;
  file_expires_after: number | null;
  created_at: Date;
  expires_at: Date;
  expired: boolean;
}

export interface StoredPart {
  id: string;
  blobKey: string;
  bytes: number;
}

/** A pending upload past its hour reads as expired before maintenance has marked it so. */
const statusOf = (r: UploadRow) => (r.status === 'pending' && r.expired ? 'expired' : r.status);

const toUpload = (r: UploadRow, file: FileObject | null): UploadObject => ({
  id: r.id,
  object: 'upload',
  bytes: r.bytes,
  created_at: unix(r.created_at)!,
  filename: r.filename,
  purpose: r.purpose,
  status: statusOf(r),
  expires_at: unix(r.expires_at)!,
  file,
});

async function uploadRow(sql: Sql | Tx, projectId: string, id: string, lock = false): Promise<UploadRow> {
  const [row] = await sql<UploadRow[]>`
    SELECT *, expires_at <= now() AS expired FROM uploads
    WHERE id = ${id} AND project_id = ${projectId} ${lock ? sql`FOR UPDATE` : sql``}`;
  if (!row) throw notFound('upload', id, 'upload_id');
  return row;
}

function assertPending(r: UploadRow): void {
  const status = statusOf(r);
  if (status === 'expired') {
    throw new ApiError('expired', `Upload ${r.id} has expired; create a new one.`, 'upload_id');
  }
  if (status !== 'pending') {
    throw new ApiError('invalid_request', `Upload ${r.id} is already ${status}.`, 'upload_id');
  }
}

/** Starts an upload of `bytes` bytes; parts are added within the hour, then completed into one file. */
export async function createUpload(
  sql: Sql,
  projectId: string,
  p: UploadCreateParams,
  maxFileBytes: number,
): Promise<UploadObject> {
  if (p.bytes > maxFileBytes) {
    throw new ApiError(
      'invalid_request',
      `bytes can be at most ${maxFileBytes} (MAX_FILE_SIZE_BYTES).`,
      'bytes',
    );
  }
  const [row] = await sql<UploadRow[]>`
    INSERT INTO uploads (id, project_id, filename, purpose, bytes, mime_type, file_expires_after, expires_at)
    VALUES (${newId('upload_')}, ${projectId}, ${p.filename}, ${p.purpose}, ${p.bytes}, ${p.mime_type},
            ${p.expires_after?.seconds ?? null}, now() + make_interval(secs => ${UPLOAD_TTL_SECONDS}))
    RETURNING *, false AS expired`;
  return toUpload(row!, null);
}

/** The upload parts may still be added to, or a 404 / 400 (checked before a part's body is read). */
export async function getPendingUpload(
  sql: Sql,
  projectId: string,
  id: string,
): Promise<{ id: string; bytes: number }> {
  const row = await uploadRow(sql, projectId, id);
  assertPending(row);
  return { id: row.id, bytes: row.bytes };
}

/** Streams one part's bytes into the blob store; nothing is recorded until recordPart. */
export async function storePart(
  blobs: BlobStore,
  projectId: string,
  upload: { id: string; bytes: number },
  body: AsyncIterable<Uint8Array>,
): Promise<StoredPart> {
  const id = newId('part_');
  // One prefix for every part, so a bucket lifecycle rule can sweep parts that outlived their upload.
  const blobKey = `uploads/${projectId}/${upload.id}/${id}`;
  const { bytes } = await blobs.put(blobKey, body, {
    maxBytes: Math.min(UPLOAD_PART_MAX_BYTES, upload.bytes),
  });
  return { id, blobKey, bytes };
}

/** Records a stored part if the upload is still pending (it may have been cancelled meanwhile); else removes the blob. */
export async function recordPart(
  sql: Sql,
  blobs: BlobStore,
  projectId: string,
  uploadId: string,
  part: StoredPart,
): Promise<UploadPartObject> {
  try {
    return await sql.begin(async (tx) => {
      assertPending(await uploadRow(tx, projectId, uploadId, true));
      const [{ n }] =
        (await tx`SELECT count(*)::int AS n FROM upload_parts WHERE upload_id = ${uploadId}`) as [
          { n: number },
        ];
      if (n >= UPLOAD_MAX_PARTS) {
        throw new ApiError(
          'invalid_request',
          `An upload can have at most ${UPLOAD_MAX_PARTS} parts.`,
          'data',
        );
      }
      const [row] = await tx<{ created_at: Date }[]>`
        INSERT INTO upload_parts (id, upload_id, blob_key, bytes)
        VALUES (${part.id}, ${uploadId}, ${part.blobKey}, ${part.bytes}) RETURNING created_at`;
      return {
        id: part.id,
        object: 'upload.part' as const,
        created_at: unix(row!.created_at)!,
        upload_id: uploadId,
      };
    });
  } catch (err) {
    await blobs.delete(part.blobKey).catch(() => {});
    throw err;
  }
}

async function* concatParts(blobs: BlobStore, keys: string[], md5: Hash): AsyncIterable<Uint8Array> {
  for (const key of keys) {
    const reader = blobs.stream(key).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      md5.update(r.value);
      yield r.value;
    }
  }
}

/** Moves every part's blob to deleted_blobs (same transaction) and returns the keys to purge after commit. */
async function dropParts(tx: Tx, uploadId: string): Promise<string[]> {
  const rows = await tx<
    { blob_key: string }[]
  >`DELETE FROM upload_parts WHERE upload_id = ${uploadId} RETURNING blob_key`;
  const keys = rows.map((r) => r.blob_key);
  if (keys.length) {
    await tx`INSERT INTO deleted_blobs (blob_key) SELECT unnest(${keys}::text[]) ON CONFLICT DO NOTHING`;
  }
  return keys;
}

async function purgeAll(sql: Sql, blobs: BlobStore, keys: string[]): Promise<void> {
  for (const key of keys) await purgeBlob(sql, blobs, key);
}

/**
 * Concatenates the named parts, in the order given, into a new file. The byte count must equal the declared
 * `bytes`, and `md5` (if given) the digest of the result. Completing a completed upload returns it again
 * (a client retrying after a timeout gets its file, not an error).
 */
export async function completeUpload(
  sql: Sql,
  blobs: BlobStore,
  projectId: string,
  uploadId: string,
  p: UploadCompleteParams,
): Promise<UploadObject> {
  const row = await uploadRow(sql, projectId, uploadId);
  if (row.status === 'completed')
    return toUpload(row, row.file_id ? await getFile(sql, projectId, row.file_id) : null);
  assertPending(row);
  const dup = p.part_ids.find((id, i) => p.part_ids.indexOf(id) !== i);
  if (dup) throw new ApiError('invalid_request', `Part ${dup} is listed more than once.`, 'part_ids');
  const found = await sql<{ id: string; blob_key: string; bytes: number }[]>`
    SELECT id, blob_key, bytes FROM upload_parts WHERE upload_id = ${uploadId} AND id = ANY(${p.part_ids})`;
  const byId = new Map(found.map((r) => [r.id, r]));
  const missing = p.part_ids.find((id) => !byId.has(id));
  if (missing)
    throw new ApiError(
      'invalid_request',
      `No part found with id '${missing}' in upload ${uploadId}.`,
      'part_ids',
    );
  const parts = p.part_ids.map((id) => byId.get(id)!);
  const total = parts.reduce((n, part) => n + part.bytes, 0);
  if (total !== row.bytes) {
    throw new ApiError(
      'invalid_request',
      `The parts add up to ${total} bytes, but the upload was created with bytes=${row.bytes}.`,
      'part_ids',
    );
  }

  const fileId = newId('file-');
  const stored = { id: fileId, blobKey: `${projectId}/${fileId}`, bytes: 0 };
  const md5 = createHash('md5');
  stored.bytes = (
    await blobs.put(
      stored.blobKey,
      concatParts(
        blobs,
        parts.map((part) => part.blob_key),
        md5,
      ),
      { maxBytes: row.bytes },
    )
  ).bytes;
  const digest = md5.digest('hex');
  if (stored.bytes !== row.bytes || (p.md5 && p.md5.toLowerCase() !== digest)) {
    await blobs.delete(stored.blobKey);
    if (stored.bytes !== row.bytes) throw new Error(`upload ${uploadId}: parts changed while completing`);
    throw new ApiError(
      'invalid_request',
      `md5 ${p.md5} does not match the uploaded bytes (md5 ${digest}).`,
      'md5',
    );
  }

  let purge: string[] = [];
  const done = await sql
    .begin(async (tx) => {
      const now = await uploadRow(tx, projectId, uploadId, true);
      if (now.status === 'completed') return { row: now, file: null, raced: true };
      assertPending(now);
      const file = await insertFile(tx, blobs, projectId, stored, {
        filename: now.filename,
        purpose: now.purpose,
        mimeType: now.mime_type,
        expiresAfterSeconds: now.file_expires_after ?? undefined,
      });
      const [updated] = await tx<UploadRow[]>`
        UPDATE uploads SET status = 'completed', file_id = ${file.id} WHERE id = ${uploadId}
        RETURNING *, false AS expired`;
      purge = await dropParts(tx, uploadId);
      return { row: updated!, file, raced: false };
    })
    .catch(async (err) => {
      await blobs.delete(stored.blobKey).catch(() => {});
      throw err;
    });
  if (done.raced) {
    // Another request completed it first; ours is surplus.
    await blobs.delete(stored.blobKey).catch(() => {});
    return completeUpload(sql, blobs, projectId, uploadId, p);
  }
  await purgeAll(sql, blobs, purge);
  return toUpload(done.row, done.file);
}

/** Cancels a pending (or expired) upload and removes its parts; cancelling twice is a no-op. */
export async function cancelUpload(
  sql: Sql,
  blobs: BlobStore,
  projectId: string,
  uploadId: string,
): Promise<UploadObject> {
  let purge: string[] = [];
  const row = await sql.begin(async (tx) => {
    const r = await uploadRow(tx, projectId, uploadId, true);
    if (r.status === 'cancelled') return r;
    if (r.status === 'completed') {
      throw new ApiError('invalid_request', `Upload ${uploadId} is already completed.`, 'upload_id');
    }
    const [updated] = await tx<UploadRow[]>`
      UPDATE uploads SET status = 'cancelled' WHERE id = ${uploadId} RETURNING *, false AS expired`;
    purge = await dropParts(tx, uploadId);
    return updated!;
  });
  await purgeAll(sql, blobs, purge);
  return toUpload(row, null);
}

/** Marks pending uploads past their hour expired and removes their parts (maintenance). Returns how many. */
export async function expireUploads(sql: Sql, blobs: BlobStore, limit = 500): Promise<number> {
  let purge: string[] = [];
  const expired = await sql.begin(async (tx) => {
    const rows = await tx<{ id: string }[]>`
      UPDATE uploads SET status = 'expired'
      WHERE id IN (SELECT id FROM uploads WHERE status = 'pending' AND expires_at <= now()
                   ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id`;
    for (const r of rows) purge = purge.concat(await dropParts(tx, r.id));
    return rows.length;
  });
  await purgeAll(sql, blobs, purge);
  return expired;
}
