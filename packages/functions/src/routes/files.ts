import { FileCreateParams, FileListParams, FileObject } from '@vsdb/core/files/schemas';
import { deleteFile, fileContent, getFile, listFiles, storeBlob } from '@vsdb/core/files/service';
import { uploadFile } from '@vsdb/core/files/upload';
import { FILE_FORM_FIELD_MAX_BYTES } from '@vsdb/core/limits';
import { deletedOf, listOf } from '@vsdb/core/schemas';
import { z } from 'zod';
import { endpoint } from '../http/endpoint.ts';
import { readForm } from '../http/form.ts';

const tag = 'Files';
const one = '/v1/files/{file_id}';

/** The form sends `expires_after[anchor]` and `expires_after[seconds]` as fields of their own. */
const FileCreateFields = z.preprocess((f) => {
  const fields = f as Record<string, string | undefined>;
  const anchor = fields['expires_after[anchor]'];
  const seconds = fields['expires_after[seconds]'];
  const expires = anchor !== undefined || seconds !== undefined ? { anchor, seconds } : undefined;
  return { purpose: fields.purpose, expires_after: expires };
}, FileCreateParams);

export const fileEndpoints = [
  endpoint({
    method: 'post',
    path: '/v1/files',
    summary: 'Upload a file',
    tag,
    form: z.object({ file: z.string().meta({ format: 'binary' }), purpose: FileCreateParams.shape.purpose }),
    response: FileObject,
    handler: async (c) => {
      const deps = c.get('deps');
      const projectId = c.get('projectId');
      const { fields, file } = await readForm(c.req.raw, {
        fields: FileCreateFields,
        file: 'file',
        maxFieldBytes: FILE_FORM_FIELD_MAX_BYTES,
        onFile: (stream) => storeBlob(deps.blobs, projectId, stream, deps.config.MAX_FILE_SIZE_BYTES),
        onAbandon: (stored) => deps.blobs.delete(stored.blobKey),
      });
      return uploadFile(deps, projectId, file!, fields);
    },
  }),
  endpoint({
    method: 'get',
    path: '/v1/files',
    summary: 'List files',
    tag,
    query: FileListParams,
    response: listOf(FileObject),
    handler: (c, { query }) => listFiles(c.get('deps').sql, c.get('projectId'), query),
  }),
  endpoint({
    method: 'get',
    path: one,
    summary: 'Retrieve a file',
    tag,
    response: FileObject,
    handler: (c, { params }) => getFile(c.get('deps').sql, c.get('projectId'), params.file_id),
  }),
  endpoint({
    method: 'delete',
    path: one,
    summary: 'Delete a file',
    tag,
    response: deletedOf('file'),
    handler: (c, { params }) => {
      const { sql, blobs } = c.get('deps');
      return deleteFile(sql, blobs, c.get('projectId'), params.file_id);
    },
  }),
  endpoint({
    method: 'get',
    path: `${one}/content`,
    summary: 'The bytes uploaded',
    tag,
    response: 'binary',
    handler: async (c, { params }) => {
      const { sql, blobs } = c.get('deps');
      const content = await fileContent(sql, blobs, c.get('projectId'), params.file_id);
      if ('url' in content) {
        c.header('cache-control', 'no-store');
        return c.redirect(content.url, 307);
      }
      return c.body(content.body, 200, {
        'content-type': content.type,
        'content-length': String(content.bytes),
        'content-disposition': content.disposition,
      });
    },
  }),
];
