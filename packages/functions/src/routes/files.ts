import { ApiError } from '@vsdb/core/errors';
import {
  deleteFile,
  FileCreateParams,
  FileListParams,
  getFile,
  getFileRow,
  insertFile,
  listFiles,
  storeBlob,
} from '@vsdb/core/files/service';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { parseMultipart } from '../http/multipart.ts';
import { parseOr400, readQuery } from '../http/validate.ts';

export const fileRoutes = new Hono<AppEnv>()
  .post('/', async (c) => {
    const { db, blobs, config } = c.get('deps');
    const projectId = c.get('projectId');
    const { fields, file } = await parseMultipart(c.req.raw, {
      maxFieldBytes: 64 * 1024,
      onFile: (stream) => storeBlob(blobs, projectId, stream, config.MAX_FILE_SIZE_BYTES),
      onAbandon: (stored) => blobs.delete(stored.blobKey),
    });
    try {
      if (file?.field !== 'file')
        throw new ApiError('invalid_request', "Missing required part 'file'.", 'file');
      const expires =
        fields['expires_after[anchor]'] !== undefined || fields['expires_after[seconds]'] !== undefined
          ? { anchor: fields['expires_after[anchor]'], seconds: fields['expires_after[seconds]'] }
          : undefined;
      const params = parseOr400(FileCreateParams, { purpose: fields.purpose, expires_after: expires });
      const filename = file.filename.trim() || 'upload';
      if (filename.length > 512)
        throw new ApiError('invalid_request', 'filename can be at most 512 characters.', 'file');
      const created = await insertFile(db.sql, blobs, projectId, file.result, {
        filename,
        purpose: params.purpose,
        mimeType: file.mimeType,
        expiresAfterSeconds: params.expires_after?.seconds,
      });
      return c.json(created);
    } catch (err) {
      if (file) await blobs.delete(file.result.blobKey);
      throw err;
    }
  })
  .get('/', async (c) => {
    const { db } = c.get('deps');
    return c.json(await listFiles(db.sql, c.get('projectId'), readQuery(c, FileListParams)));
  })
  .get('/:file_id', async (c) => {
    const { db } = c.get('deps');
    return c.json(await getFile(db.sql, c.get('projectId'), c.req.param('file_id')));
  })
  .delete('/:file_id', async (c) => {
    const { db, blobs } = c.get('deps');
    return c.json(await deleteFile(db.sql, blobs, c.get('projectId'), c.req.param('file_id')));
  })
  .get('/:file_id/content', async (c) => {
    const { db, blobs } = c.get('deps');
    const row = await getFileRow(db.sql, c.get('projectId'), c.req.param('file_id'));
    const type = row.mime_type || 'application/octet-stream';
    const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(row.filename)}`;
    // S3: the client (the SDKs follow redirects) fetches the bytes from a short-lived URL, whatever the size.
    if (blobs.presignGet) {
      const url = await blobs.presignGet(row.blob_key, {
        contentType: type,
        contentDisposition: disposition,
      });
      c.header('cache-control', 'no-store');
      return c.redirect(url, 307);
    }
    return c.body(blobs.stream(row.blob_key), 200, {
      'content-type': type,
      'content-length': String(row.bytes),
      'content-disposition': disposition,
    });
  });
