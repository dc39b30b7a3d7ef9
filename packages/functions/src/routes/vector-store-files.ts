import { ApiError } from '@vsdb/core/errors';
import { deleteFile, insertFile, storeBlob } from '@vsdb/core/files/service';
import { ChunkingStrategySchema } from '@vsdb/core/ingest/chunk';
import { isSupportedFile } from '@vsdb/core/ingest/extract';
import { parsePageToken } from '@vsdb/core/maia/file-content';
import { AttributesSchema } from '@vsdb/core/schemas';
import { attachAndIngest } from '@vsdb/core/vector-store-files/attach';
import {
  detachVectorStoreFile,
  getVectorStoreFile,
  listVectorStoreFiles,
  updateVectorStoreFile,
  VectorStoreFileCreateParams,
  VectorStoreFileListParams,
  VectorStoreFileUpdateParams,
  vectorStoreFileContent,
} from '@vsdb/core/vector-store-files/service';
import { assertVectorStore } from '@vsdb/core/vector-stores/service';
import { type Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app.ts';
import { parseMultipart } from '../http/multipart.ts';
import { pollHint } from '../http/respond.ts';
import { parseOr400, readJson, readQuery } from '../http/validate.ts';

const jsonField = (what: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${what} must be a JSON object` });
        return z.NEVER;
      }
    });

/** MAIA's multipart upload into a store: `file`, or `text` with an optional `filename`. */
const MaiaUploadFields = z.object({
  text: z.string().optional(),
  filename: z.string().min(1).max(512).optional(),
  attributes: jsonField('attributes').pipe(AttributesSchema.optional()),
  chunking_strategy: jsonField('chunking_strategy').pipe(ChunkingStrategySchema.optional()),
});

async function maiaUpload(c: Context<AppEnv>, vectorStoreId: string) {
  const deps = c.get('deps');
  const { db, blobs, config } = deps;
  const projectId = c.get('projectId');
  await assertVectorStore(db.sql, projectId, vectorStoreId, true);
  const { fields, file } = await parseMultipart(c.req.raw, {
    maxFieldBytes: config.MAX_FILE_SIZE_BYTES,
    onFile: (stream, info) => {
      if (!isSupportedFile(info.filename, info.mimeType)) {
        throw new ApiError('unsupported_file', `Files of type '${info.filename}' are not supported.`, 'file');
      }
      return storeBlob(blobs, projectId, stream, config.MAX_FILE_SIZE_BYTES);
    },
    onAbandon: (stored) => blobs.delete(stored.blobKey),
  });
  let stored = file?.result;
  try {
    const params = parseOr400(MaiaUploadFields, fields);
    let filename = file?.filename || params.filename || '';
    if (!stored) {
      if (params.text === undefined)
        throw new ApiError('invalid_request', "Send a 'file' part or a 'text' field.", 'file');
      filename = params.filename ?? 'text.txt';
      if (!isSupportedFile(filename)) {
        throw new ApiError('unsupported_file', `Files of type '${filename}' are not supported.`, 'filename');
      }
      stored = await storeBlob(
        blobs,
        projectId,
        new TextEncoder().encode(params.text),
        config.MAX_FILE_SIZE_BYTES,
      );
    }
    const created = await insertFile(db.sql, blobs, projectId, stored, {
      filename,
      purpose: 'assistants',
      mimeType: file?.mimeType ?? 'text/plain',
    });
    stored = undefined;
    await attachAndIngest({ sql: db.sql, jobs: deps.jobs, config }, projectId, vectorStoreId, [
      { fileId: created.id, attributes: params.attributes, chunkingStrategy: params.chunking_strategy },
    ]);
    const result = await getVectorStoreFile(db.sql, projectId, vectorStoreId, created.id);
    const code = result.last_error?.code;
    if (result.status === 'failed' && (code === 'invalid_file' || code === 'unsupported_file')) {
      // The direct upload is refused as a whole: nothing of it stays behind.
      await deleteFile(db.sql, blobs, projectId, created.id);
      throw new ApiError(code, result.last_error!.message, 'file');
    }
    return pollHint(c, result.status).json(result, 201);
  } finally {
    if (stored) await blobs.delete(stored.blobKey);
  }
}

export const vectorStoreFileRoutes = new Hono<AppEnv>()
  .post('/:vector_store_id/files', async (c) => {
    const deps = c.get('deps');
    const projectId = c.get('projectId');
    const vectorStoreId = c.req.param('vector_store_id');
    if (/^multipart\/form-data/i.test(c.req.header('content-type') ?? ''))
      return maiaUpload(c, vectorStoreId);
    const body = await readJson(c, VectorStoreFileCreateParams);
    await attachAndIngest(
      { sql: deps.db.sql, jobs: deps.jobs, config: deps.config },
      projectId,
      vectorStoreId,
      [{ fileId: body.file_id, attributes: body.attributes, chunkingStrategy: body.chunking_strategy }],
    );
    const file = await getVectorStoreFile(deps.db.sql, projectId, vectorStoreId, body.file_id);
    return pollHint(c, file.status).json(file);
  })
  .get('/:vector_store_id/files', async (c) => {
    const { db } = c.get('deps');
    const q = readQuery(c, VectorStoreFileListParams);
    return c.json(await listVectorStoreFiles(db.sql, c.get('projectId'), c.req.param('vector_store_id'), q));
  })
  .get('/:vector_store_id/files/:file_id', async (c) => {
    const { db } = c.get('deps');
    const file = await getVectorStoreFile(
      db.sql,
      c.get('projectId'),
      c.req.param('vector_store_id'),
      c.req.param('file_id'),
    );
    return pollHint(c, file.status).json(file);
  })
  .post('/:vector_store_id/files/:file_id', async (c) => {
    const { db } = c.get('deps');
    const body = await readJson(c, VectorStoreFileUpdateParams);
    const { vector_store_id, file_id } = c.req.param();
    return c.json(
      await updateVectorStoreFile(db.sql, c.get('projectId'), vector_store_id, file_id, body.attributes),
    );
  })
  .delete('/:vector_store_id/files/:file_id', async (c) => {
    const { db } = c.get('deps');
    const { vector_store_id, file_id } = c.req.param();
    return c.json(await detachVectorStoreFile(db.sql, c.get('projectId'), vector_store_id, file_id));
  })
  .get('/:vector_store_id/files/:file_id/content', async (c) => {
    const { db } = c.get('deps');
    const { vector_store_id, file_id } = c.req.param();
    const from = parsePageToken(c.req.query('page'));
    return c.json(await vectorStoreFileContent(db.sql, c.get('projectId'), vector_store_id, file_id, from));
  });
