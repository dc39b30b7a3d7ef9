import { ApiError } from '@vsdb/core/errors';
import { type StoredBlob, storeBlob } from '@vsdb/core/files/service';
import { isSupportedFile, SUPPORTED_EXTENSIONS } from '@vsdb/core/ingest/extract';
import {
  deleteMaiaFile,
  getMaiaFile,
  listMaiaFiles,
  maiaContentType,
  uploadMaiaFile,
} from '@vsdb/core/maia/files';
import {
  MaiaFile,
  MaiaFileDeleted,
  MaiaFileList,
  MaiaListQuery,
  MaiaUploadForm,
} from '@vsdb/core/maia/schemas';
import { getMaiaStore } from '@vsdb/core/maia/stores';
import type { Context } from 'hono';
import { endpoint } from '../http/endpoint.ts';
import type { AppEnv } from '../http/env.ts';
import { parseMultipart } from '../http/multipart.ts';
import { unstorableAt } from '../http/validate.ts';

const invalid = (message: string, param: string) => new ApiError('invalid_request', message, param);

/** MAIA's `attributes` form field: a JSON object as a string, values of any JSON type. */
function parseAttributes(raw: string | undefined): Record<string, unknown> | null {
  if (raw === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid("Invalid JSON in 'attributes' field.", 'attributes');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalid("'attributes' must be a JSON object.", 'attributes');
  // The field was checked as text; what its JSON decodes to (a \u0000 escape, a __proto__ key) is checked here.
  const bad = unstorableAt(parsed);
  if (bad !== undefined)
    throw invalid(
      bad.reserved
        ? `Invalid 'attributes.${bad.path}': the key '__proto__' is not accepted.`
        : "Invalid 'attributes': text must not contain NUL characters or unpaired surrogates.",
      'attributes',
    );
  return parsed as Record<string, unknown>;
}

/** Reads the request body as text, refusing more than `limit` bytes. */
async function readText(req: Request, limit: number): Promise<string> {
  if (Number(req.headers.get('content-length') ?? 0) > limit)
    throw new ApiError('payload_too_large', `Request body is larger than ${limit} bytes.`);
  if (!req.body) return '';
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ApiError('payload_too_large', `Request body is larger than ${limit} bytes.`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The form fields and the stored file part of an upload: multipart, or an ordinary urlencoded form. */
async function readForm(c: Context<AppEnv>, projectId: string) {
  const { blobs, config } = c.get('deps');
  const type = c.req.header('content-type') ?? '';
  if (/^multipart\/form-data/i.test(type)) {
    const { fields, file } = await parseMultipart(c.req.raw, {
      maxFieldBytes: config.MAX_FILE_SIZE_BYTES,
      onFile: (stream) => storeBlob(blobs, projectId, stream, config.MAX_FILE_SIZE_BYTES),
      onAbandon: (stored) => blobs.delete(stored.blobKey),
    });
    return { fields, file: file ? { name: file.filename, stored: file.result } : undefined };
  }
  if (/^application\/x-www-form-urlencoded/i.test(type)) {
    // Percent-encoding at most triples the text: bound the body by that.
    const body = await readText(c.req.raw, config.MAX_FILE_SIZE_BYTES * 3 + 65_536);
    return { fields: Object.fromEntries(new URLSearchParams(body)), file: undefined };
  }
  return { fields: {} as Record<string, string>, file: undefined }; // FastAPI's Form() sees no fields
}

/** MAIA's upload: the store checked first, then the form read and the file stored, attached and ingested. */
async function upload(c: Context<AppEnv>, storeId: string): Promise<MaiaFile> {
  const deps = c.get('deps');
  const { sql, blobs, config } = deps;
  const projectId = c.get('projectId');
  await getMaiaStore(sql, projectId, storeId);
  const { fields, file } = await readForm(c, projectId);
  let stored: StoredBlob | undefined = file?.stored;
  try {
    const attributes = parseAttributes(fields.attributes);
    const text = fields.text;
    if (!stored && text === undefined)
      throw invalid("Provide either a file upload or a 'text' field.", 'file');
    const filename = fields.filename || file?.name || (text !== undefined ? 'raw_text.txt' : 'upload.txt');
    const dot = filename.lastIndexOf('.');
    if (!isSupportedFile(filename, maiaContentType(filename))) {
      const ext = dot === -1 ? '' : filename.slice(dot).toLowerCase();
      throw invalid(
        `Unsupported file format '${ext}'. Supported: ${SUPPORTED_EXTENSIONS.join(', ')}`,
        'file',
      );
    }
    stored ??= await storeBlob(blobs, projectId, new TextEncoder().encode(text), config.MAX_FILE_SIZE_BYTES);
    const blob = stored;
    stored = undefined; // from here on the file record owns the blob
    const ctx = { sql, blobs, jobs: deps.jobs, config };
    return await uploadMaiaFile(ctx, projectId, storeId, blob, { filename, attributes });
  } finally {
    if (stored) await blobs.delete(stored.blobKey);
  }
}

const tag = 'files';
const files = '/v1/vector_stores/{vector_store_id}/files';
const one = `${files}/{file_id}`;

/** MAIA's /v1/vector_stores/{id}/files: upload (201), list by offset, get, delete. */
export const maiaFileEndpoints = [
  endpoint({
    method: 'post',
    path: files,
    operationId: 'upload_file_v1_vector_stores__vector_store_id__files_post',
    summary: 'Upload File',
    tag,
    status: 201,
    form: MaiaUploadForm,
    response: MaiaFile,
    handler: (c, { params }) => upload(c, params.vector_store_id),
  }),
  endpoint({
    method: 'get',
    path: files,
    operationId: 'list_files_v1_vector_stores__vector_store_id__files_get',
    summary: 'List Files',
    tag,
    query: MaiaListQuery,
    response: MaiaFileList,
    handler: (c, { params, query }) =>
      listMaiaFiles(c.get('deps').sql, c.get('projectId'), params.vector_store_id, query),
  }),
  endpoint({
    method: 'get',
    path: one,
    operationId: 'get_file_v1_vector_stores__vector_store_id__files__file_id__get',
    summary: 'Get File',
    tag,
    response: MaiaFile,
    handler: (c, { params }) =>
      getMaiaFile(c.get('deps').sql, c.get('projectId'), params.vector_store_id, params.file_id),
  }),
  endpoint({
    method: 'delete',
    path: one,
    operationId: 'delete_file_v1_vector_stores__vector_store_id__files__file_id__delete',
    summary: 'Delete File',
    tag,
    response: MaiaFileDeleted,
    handler: (c, { params }) => {
      const { sql, blobs } = c.get('deps');
      return deleteMaiaFile(sql, blobs, c.get('projectId'), params.vector_store_id, params.file_id);
    },
  }),
];
