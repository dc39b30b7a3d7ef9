import type { BlobStore } from '../blobs/store.ts';
import { ApiError } from '../errors.ts';
import { deleteFile, insertFile, type StoredBlob, storeBlob } from '../files/service.ts';
import type { ChunkingStrategy } from '../ingest/chunk.ts';
import { isSupportedFile } from '../ingest/extract.ts';
import type { Attributes } from '../schemas.ts';
import { attachAndIngest, type Ingestion } from './attach.ts';
import type { VectorStoreFileObject } from './schemas.ts';
import { getVectorStoreFile } from './service.ts';

type UploadContext = Ingestion & { blobs: BlobStore };

/** The `file` part of a MAIA upload as it streams in: refused unless its type is supported, else stored. */
export function receiveStoreUpload(
  ctx: UploadContext,
  projectId: string,
  stream: AsyncIterable<Uint8Array>,
  info: { filename: string; mimeType: string },
): Promise<StoredBlob> {
  if (!isSupportedFile(info.filename, info.mimeType)) {
    throw new ApiError('unsupported_file', `Files of type '${info.filename}' are not supported.`, 'file');
  }
  return storeBlob(ctx.blobs, projectId, stream, ctx.config.MAX_FILE_SIZE_BYTES);
}

export interface StoreUpload {
  /** The stored `file` part, if one was sent. */
  file?: { result: StoredBlob; filename: string; mimeType: string };
  text?: string;
  filename?: string;
  attributes?: Attributes;
  chunking_strategy?: ChunkingStrategy;
}

/**
 * MAIA's direct upload into a store (a `file` part, or `text`): records the file, attaches it and ingests it.
 * A file that turns out unreadable is refused as a whole: nothing of it stays behind, nor does a stored
 * part whose request failed.
 */
export async function uploadAndAttach(
  ctx: UploadContext,
  projectId: string,
  vectorStoreId: string,
  p: StoreUpload,
): Promise<VectorStoreFileObject> {
  const { sql, blobs, config } = ctx;
  let stored = p.file?.result;
  try {
    let filename = p.file?.filename || p.filename || '';
    if (!stored) {
      if (p.text === undefined)
        throw new ApiError('invalid_request', "Send a 'file' part or a 'text' field.", 'file');
      filename = p.filename ?? 'text.txt';
      if (!isSupportedFile(filename)) {
        throw new ApiError('unsupported_file', `Files of type '${filename}' are not supported.`, 'filename');
      }
      const text = new TextEncoder().encode(p.text);
      stored = await storeBlob(blobs, projectId, text, config.MAX_FILE_SIZE_BYTES);
    }
    const created = await insertFile(sql, blobs, projectId, stored, {
      filename,
      purpose: 'assistants',
      mimeType: p.file?.mimeType ?? 'text/plain',
    });
    stored = undefined;
    await attachAndIngest(ctx, projectId, vectorStoreId, [
      { fileId: created.id, attributes: p.attributes, chunkingStrategy: p.chunking_strategy },
    ]);
    const result = await getVectorStoreFile(sql, projectId, vectorStoreId, created.id);
    const code = result.last_error?.code;
    if (result.status === 'failed' && (code === 'invalid_file' || code === 'unsupported_file')) {
      await deleteFile(sql, blobs, projectId, created.id);
      throw new ApiError(code, result.last_error!.message, 'file');
    }
    return result;
  } finally {
    if (stored) await blobs.delete(stored.blobKey);
  }
}
