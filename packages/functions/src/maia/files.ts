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
import { getMaiaStore, MaiaListQuery } from '@vsdb/core/maia/stores';
import { type Context, Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { parseMultipart } from '../http/multipart.ts';
import { unstorableAt } from '../http/validate.ts';
import { readQuery, readText } from './http.ts';

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

async function upload(c: Context<AppEnv>) {
  const deps = c.get('deps');
  const { db, blobs, config } = deps;
  const projectId = c.get('projectId');
  const storeId = c.req.param('vector_store_id')!;
  await getMaiaStore(db.sql, projectId, storeId);
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
    const ctx = { sql: db.sql, blobs, jobs: deps.jobs, config };
    return c.json(await uploadMaiaFile(ctx, projectId, storeId, blob, { filename, attributes }), 201);
  } finally {
    if (stored) await blobs.delete(stored.blobKey);
  }
}

/** MAIA's /v1/vector_stores/{id}/files: upload (201), list by offset, get, delete. */
export const maiaFileRoutes = new Hono<AppEnv>()
  .post('/:vector_store_id/files', upload)
  .get('/:vector_store_id/files', async (c) => {
    const q = readQuery(c, MaiaListQuery);
    return c.json(
      await listMaiaFiles(c.get('deps').db.sql, c.get('projectId'), c.req.param('vector_store_id'), q),
    );
  })
  .get('/:vector_store_id/files/:file_id', async (c) => {
    const { vector_store_id, file_id } = c.req.param();
    return c.json(await getMaiaFile(c.get('deps').db.sql, c.get('projectId'), vector_store_id, file_id));
  })
  .delete('/:vector_store_id/files/:file_id', async (c) => {
    const { db, blobs } = c.get('deps');
    const { vector_store_id, file_id } = c.req.param();
    return c.json(await deleteMaiaFile(db.sql, blobs, c.get('projectId'), vector_store_id, file_id));
  });
