import { ChunkingStrategySchema } from '@vsdb/core/ingest/chunk';
import { parsePageToken } from '@vsdb/core/maia/file-content';
import { AttributesSchema, deletedOf, listOf } from '@vsdb/core/schemas';
import { attachFile } from '@vsdb/core/vector-store-files/attach';
import {
  FileContentPage,
  VectorStoreFile,
  VectorStoreFileCreateParams,
  VectorStoreFileListParams,
  VectorStoreFileUpdateParams,
} from '@vsdb/core/vector-store-files/schemas';
import {
  detachVectorStoreFile,
  getVectorStoreFile,
  listVectorStoreFiles,
  updateVectorStoreFile,
  vectorStoreFileContent,
} from '@vsdb/core/vector-store-files/service';
import { receiveStoreUpload, uploadAndAttach } from '@vsdb/core/vector-store-files/upload';
import { assertVectorStore } from '@vsdb/core/vector-stores/service';
import { z } from 'zod';
import { endpoint } from '../http/endpoint.ts';
import { readForm } from '../http/form.ts';
import { pollHint } from '../http/respond.ts';
import { unstorableAt } from '../http/validate.ts';

const tag = 'Vector store files';
const files = '/v1/vector_stores/{vector_store_id}/files';
const one = `${files}/{file_id}`;

/** A form field holding JSON (MAIA sends attributes and chunking_strategy that way). */
const jsonField = (what: string) =>
  z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s.trim() === '') return undefined;
      let value: unknown;
      try {
        value = JSON.parse(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${what} must be a JSON object` });
        return z.NEVER;
      }
      // The form field was checked as text; what its JSON decodes to (a \u0000 escape) is checked here.
      const bad = unstorableAt(value);
      if (bad !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: bad.reserved
            ? `the key '__proto__' is not accepted (at '${bad.path}')`
            : 'text must not contain NUL characters or unpaired surrogates',
        });
        return z.NEVER;
      }
      return value;
    });

/** MAIA's multipart upload into a store: `file`, or `text` with an optional `filename`. */
const MaiaUploadFields = z.object({
  text: z.string().optional(),
  filename: z.string().min(1).max(512).optional(),
  attributes: jsonField('attributes').pipe(AttributesSchema.optional()),
  chunking_strategy: jsonField('chunking_strategy').pipe(ChunkingStrategySchema.optional()),
});

const MaiaUploadForm = z.object({
  file: z.string().meta({ format: 'binary' }).optional(),
  text: z.string().optional(),
  filename: z.string().optional(),
  attributes: z.string().describe('a JSON object').optional(),
  chunking_strategy: z.string().describe('a JSON object').optional(),
});

export const vectorStoreFileEndpoints = [
  endpoint({
    method: 'post',
    path: files,
    summary: 'Attach a file (JSON) or upload into the store (MAIA multipart)',
    tag,
    body: VectorStoreFileCreateParams,
    form: MaiaUploadForm,
    response: VectorStoreFile,
    handler: async (c, { params, body }) => {
      const deps = c.get('deps');
      const projectId = c.get('projectId');
      const vectorStoreId = params.vector_store_id;
      let file: z.infer<typeof VectorStoreFile>;
      if (body) {
        file = await attachFile(deps, projectId, vectorStoreId, body);
      } else {
        // Refuse before reading the body when the store cannot take files.
        await assertVectorStore(deps.sql, projectId, vectorStoreId, true);
        const form = await readForm(c.req.raw, {
          fields: MaiaUploadFields,
          maxFieldBytes: deps.config.MAX_FILE_SIZE_BYTES,
          onFile: (stream, info) => receiveStoreUpload(deps, projectId, stream, info),
          onAbandon: (stored) => deps.blobs.delete(stored.blobKey),
        });
        file = await uploadAndAttach(deps, projectId, vectorStoreId, { ...form.fields, file: form.file });
        c.status(201);
      }
      pollHint(c, file.status);
      return file;
    },
  }),
  endpoint({
    method: 'get',
    path: files,
    summary: 'List vector store files',
    tag,
    query: VectorStoreFileListParams,
    response: listOf(VectorStoreFile),
    handler: (c, { params, query }) =>
      listVectorStoreFiles(c.get('deps').sql, c.get('projectId'), params.vector_store_id, query),
  }),
  endpoint({
    method: 'get',
    path: one,
    summary: 'Retrieve a vector store file',
    tag,
    response: VectorStoreFile,
    handler: async (c, { params }) => {
      const { vector_store_id, file_id } = params;
      const file = await getVectorStoreFile(c.get('deps').sql, c.get('projectId'), vector_store_id, file_id);
      pollHint(c, file.status);
      return file;
    },
  }),
  endpoint({
    method: 'post',
    path: one,
    summary: 'Update attributes',
    tag,
    body: VectorStoreFileUpdateParams,
    response: VectorStoreFile,
    handler: (c, { params, body }) =>
      updateVectorStoreFile(
        c.get('deps').sql,
        c.get('projectId'),
        params.vector_store_id,
        params.file_id,
        body.attributes,
      ),
  }),
  endpoint({
    method: 'delete',
    path: one,
    summary: 'Detach a file',
    tag,
    response: deletedOf('vector_store.file.deleted'),
    handler: (c, { params }) =>
      detachVectorStoreFile(c.get('deps').sql, c.get('projectId'), params.vector_store_id, params.file_id),
  }),
  endpoint({
    method: 'get',
    path: `${one}/content`,
    summary: "A file's parsed text, paged",
    tag,
    query: z.object({ page: z.string().optional().describe('next_page of the previous page') }),
    response: FileContentPage,
    handler: (c, { params, query }) =>
      vectorStoreFileContent(
        c.get('deps').sql,
        c.get('projectId'),
        params.vector_store_id,
        params.file_id,
        parsePageToken(query.page),
      ),
  }),
];
