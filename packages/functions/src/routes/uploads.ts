import { ApiError } from '@vsdb/core/errors';
import {
  cancelUpload,
  completeUpload,
  createUpload,
  getPendingUpload,
  recordPart,
  storePart,
  UploadCompleteParams,
  UploadCreateParams,
} from '@vsdb/core/uploads/service';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { parseMultipart } from '../http/multipart.ts';
import { readJson } from '../http/validate.ts';

/** OpenAI's Uploads API: a large file in parts (each a request of its own, under API Gateway's size cap). */
export const uploadRoutes = new Hono<AppEnv>()
  .post('/', async (c) => {
    const { db, config } = c.get('deps');
    const params = await readJson(c, UploadCreateParams);
    return c.json(await createUpload(db.sql, c.get('projectId'), params, config.MAX_FILE_SIZE_BYTES));
  })
  .post('/:upload_id/parts', async (c) => {
    const { db, blobs } = c.get('deps');
    const projectId = c.get('projectId');
    // Refuse before reading the body when the upload cannot take parts.
    const upload = await getPendingUpload(db.sql, projectId, c.req.param('upload_id'));
    const { file } = await parseMultipart(c.req.raw, {
      maxFieldBytes: 1024,
      onFile: (stream) => storePart(blobs, projectId, upload, stream),
      onAbandon: (part) => blobs.delete(part.blobKey),
    });
    if (file?.field !== 'data') {
      if (file) await blobs.delete(file.result.blobKey);
      throw new ApiError('invalid_request', "Missing required part 'data'.", 'data');
    }
    return c.json(await recordPart(db.sql, blobs, projectId, upload.id, file.result));
  })
  .post('/:upload_id/complete', async (c) => {
    const { db, blobs } = c.get('deps');
    const params = await readJson(c, UploadCompleteParams);
    return c.json(await completeUpload(db.sql, blobs, c.get('projectId'), c.req.param('upload_id'), params));
  })
  .post('/:upload_id/cancel', async (c) => {
    const { db, blobs } = c.get('deps');
    return c.json(await cancelUpload(db.sql, blobs, c.get('projectId'), c.req.param('upload_id')));
  });
