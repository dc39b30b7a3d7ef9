import { PART_FORM_FIELD_MAX_BYTES } from '@vsdb/core/limits';
import { Upload, UploadCompleteParams, UploadCreateParams, UploadPart } from '@vsdb/core/uploads/schemas';
import {
  cancelUpload,
  completeUpload,
  createUpload,
  getPendingUpload,
  recordPart,
  storePart,
} from '@vsdb/core/uploads/service';
import { z } from 'zod';
import { endpoint } from '../http/endpoint.ts';
import { readForm } from '../http/form.ts';

const tag = 'Uploads';
const one = '/v1/uploads/{upload_id}';

/** OpenAI's Uploads API: a large file in parts (each a request of its own, under API Gateway's size cap). */
export const uploadEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/uploads',
    summary: 'Start a multi-part upload',
    tag,
    body: UploadCreateParams,
    response: Upload,
    handler: (c, { body }) => {
      const { sql, config } = c.get('deps');
      return createUpload(sql, c.get('projectId'), body, config.MAX_FILE_SIZE_BYTES);
    },
  }),
  endpoint({
    method: 'post',
    path: `${one}/parts`,
    summary: 'Add a part',
    tag,
    form: z.object({ data: z.string().meta({ format: 'binary' }) }),
    response: UploadPart,
    handler: async (c, { params }) => {
      const { sql, blobs } = c.get('deps');
      const projectId = c.get('projectId');
      // Refuse before reading the body when the upload cannot take parts.
      const upload = await getPendingUpload(sql, projectId, params.upload_id);
      const { file } = await readForm(c.req.raw, {
        fields: z.unknown(),
        file: 'data',
        maxFieldBytes: PART_FORM_FIELD_MAX_BYTES,
        onFile: (stream) => storePart(blobs, projectId, upload, stream),
        onAbandon: (part) => blobs.delete(part.blobKey),
      });
      return recordPart(sql, blobs, projectId, upload.id, file!.result);
    },
  }),
  endpoint({
    method: 'post',
    path: `${one}/complete`,
    summary: 'Complete an upload into a file',
    tag,
    body: UploadCompleteParams,
    response: Upload,
    handler: (c, { params, body }) => {
      const { sql, blobs } = c.get('deps');
      return completeUpload(sql, blobs, c.get('projectId'), params.upload_id, body);
    },
  }),
  endpoint({
    method: 'post',
    path: `${one}/cancel`,
    summary: 'Cancel an upload',
    tag,
    response: Upload,
    handler: (c, { params }) => {
      const { sql, blobs } = c.get('deps');
      return cancelUpload(sql, blobs, c.get('projectId'), params.upload_id);
    },
  }),
];
