import type { BlobStore } from '../blobs/store.ts';
import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { FileCreateParams, FileObject } from './schemas.ts';
import { insertFile, type StoredBlob } from './service.ts';

/**
 * POST /v1/files: records the `file` part (already streamed into the blob store) as a file. The stored bytes
 * are removed again if it cannot be recorded.
 */
export async function uploadFile(
  ctx: { sql: Sql; blobs: BlobStore },
  projectId: string,
  file: { result: StoredBlob; filename: string; mimeType: string },
  p: FileCreateParams,
): Promise<FileObject> {
  const filename = file.filename.trim() || 'upload';
  if (filename.length > 512) {
    await ctx.blobs.delete(file.result.blobKey);
    throw new ApiError('invalid_request', 'filename can be at most 512 characters.', 'file');
  }
  return insertFile(ctx.sql, ctx.blobs, projectId, file.result, {
    filename,
    purpose: p.purpose,
    mimeType: file.mimeType,
    expiresAfterSeconds: p.expires_after?.seconds,
  });
}
