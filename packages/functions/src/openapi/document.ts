import { EmbeddingCreateParams } from '@vsdb/core/embedding/inputs';
import { FileBatchCreateParams } from '@vsdb/core/file-batches/service';
import { FileCreateParams, FileListParams } from '@vsdb/core/files/service';
import { ListQuerySchema } from '@vsdb/core/schemas';
import { MultiStoreSearchParams, VectorStoreSearchParams } from '@vsdb/core/search/service';
import { UploadCompleteParams, UploadCreateParams } from '@vsdb/core/uploads/service';
import {
  VectorStoreFileCreateParams,
  VectorStoreFileListParams,
  VectorStoreFileUpdateParams,
} from '@vsdb/core/vector-store-files/service';
import { VectorStoreCreateParams, VectorStoreUpdateParams } from '@vsdb/core/vector-stores/service';
import { VERSION } from '@vsdb/core/version';
import { z } from 'zod';
import * as R from './responses.ts';

interface Operation {
  method: 'get' | 'post' | 'delete';
  path: string;
  summary: string;
  tag: string;
  query?: z.ZodObject;
  body?: z.ZodType;
  multipart?: z.ZodType;
  response: z.ZodType | 'binary' | 'text';
  public?: boolean;
}

const vs = '/v1/vector_stores/{vector_store_id}';
const multipartFile = z.object({
  file: z.string().meta({ format: 'binary' }),
  purpose: FileCreateParams.shape.purpose,
});
const maiaUpload = z.object({
  file: z.string().meta({ format: 'binary' }).optional(),
  text: z.string().optional(),
  filename: z.string().optional(),
  attributes: z.string().describe('a JSON object').optional(),
  chunking_strategy: z.string().describe('a JSON object').optional(),
});

/** Every operation the API serves; a test checks this against the router. */
export const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/health',
    summary: 'Service and database health',
    tag: 'Health',
    response: R.Health,
    public: true,
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', tag: 'Health', response: 'text' },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'Health',
    response: z.object({}),
    public: true,
  },
  {
    method: 'get',
    path: '/docs',
    summary: 'Interactive API reference',
    tag: 'Health',
    response: 'text',
    public: true,
  },
  {
    method: 'get',
    path: '/console',
    summary: 'Web console (a browser page)',
    tag: 'Health',
    response: 'text',
    public: true,
  },
  {
    method: 'get',
    path: '/console/',
    summary: 'Redirects to /console',
    tag: 'Health',
    response: 'text',
    public: true,
  },
  {
    method: 'get',
    path: '/docs/assets/{dir}/{name}',
    summary: "The reference page's assets",
    tag: 'Health',
    response: 'text',
    public: true,
  },
  {
    method: 'post',
    path: '/v1/vector_stores',
    summary: 'Create a vector store',
    tag: 'Vector stores',
    body: VectorStoreCreateParams,
    response: R.VectorStore,
  },
  {
    method: 'get',
    path: '/v1/vector_stores',
    summary: 'List vector stores',
    tag: 'Vector stores',
    query: ListQuerySchema,
    response: R.listOf(R.VectorStore),
  },
  {
    method: 'get',
    path: vs,
    summary: 'Retrieve a vector store',
    tag: 'Vector stores',
    response: R.VectorStore,
  },
  {
    method: 'post',
    path: vs,
    summary: 'Update a vector store',
    tag: 'Vector stores',
    body: VectorStoreUpdateParams,
    response: R.VectorStore,
  },
  {
    method: 'delete',
    path: vs,
    summary: 'Delete a vector store',
    tag: 'Vector stores',
    response: R.deletedOf('vector_store.deleted'),
  },
  {
    method: 'post',
    path: `${vs}/search`,
    summary: 'Search a vector store',
    tag: 'Search',
    body: VectorStoreSearchParams,
    response: R.SearchResultsPage,
  },
  {
    method: 'post',
    path: '/v1/search',
    summary: 'Search several vector stores (extension)',
    tag: 'Search',
    body: MultiStoreSearchParams,
    response: R.SearchResultsPage,
  },
  {
    method: 'post',
    path: `${vs}/files`,
    summary: 'Attach a file (JSON) or upload into the store (MAIA multipart)',
    tag: 'Vector store files',
    body: VectorStoreFileCreateParams,
    multipart: maiaUpload,
    response: R.VectorStoreFile,
  },
  {
    method: 'get',
    path: `${vs}/files`,
    summary: 'List vector store files',
    tag: 'Vector store files',
    query: VectorStoreFileListParams,
    response: R.listOf(R.VectorStoreFile),
  },
  {
    method: 'get',
    path: `${vs}/files/{file_id}`,
    summary: 'Retrieve a vector store file',
    tag: 'Vector store files',
    response: R.VectorStoreFile,
  },
  {
    method: 'post',
    path: `${vs}/files/{file_id}`,
    summary: 'Update attributes',
    tag: 'Vector store files',
    body: VectorStoreFileUpdateParams,
    response: R.VectorStoreFile,
  },
  {
    method: 'delete',
    path: `${vs}/files/{file_id}`,
    summary: 'Detach a file',
    tag: 'Vector store files',
    response: R.deletedOf('vector_store.file.deleted'),
  },
  {
    method: 'get',
    path: `${vs}/files/{file_id}/content`,
    summary: 'Chunk texts of a file',
    tag: 'Vector store files',
    response: R.FileContentPage,
  },
  {
    method: 'get',
    path: `${vs}/files/{file_id}/chunks`,
    summary: 'Chunks of a file with index, page and tokens, and its parsed text (extension)',
    tag: 'Vector store files',
    response: R.FileChunks,
  },
  {
    method: 'post',
    path: `${vs}/file_batches`,
    summary: 'Create a file batch',
    tag: 'File batches',
    body: FileBatchCreateParams,
    response: R.FileBatch,
  },
  {
    method: 'get',
    path: `${vs}/file_batches/{batch_id}`,
    summary: 'Retrieve a file batch',
    tag: 'File batches',
    response: R.FileBatch,
  },
  {
    method: 'post',
    path: `${vs}/file_batches/{batch_id}/cancel`,
    summary: 'Cancel a file batch',
    tag: 'File batches',
    response: R.FileBatch,
  },
  {
    method: 'get',
    path: `${vs}/file_batches/{batch_id}/files`,
    summary: "List a batch's files",
    tag: 'File batches',
    query: VectorStoreFileListParams,
    response: R.listOf(R.VectorStoreFile),
  },
  {
    method: 'post',
    path: '/v1/files',
    summary: 'Upload a file',
    tag: 'Files',
    multipart: multipartFile,
    response: R.FileObject,
  },
  {
    method: 'get',
    path: '/v1/files',
    summary: 'List files',
    tag: 'Files',
    query: FileListParams,
    response: R.listOf(R.FileObject),
  },
  {
    method: 'get',
    path: '/v1/files/{file_id}',
    summary: 'Retrieve a file',
    tag: 'Files',
    response: R.FileObject,
  },
  {
    method: 'delete',
    path: '/v1/files/{file_id}',
    summary: 'Delete a file',
    tag: 'Files',
    response: R.deletedOf('file'),
  },
  {
    method: 'get',
    path: '/v1/files/{file_id}/content',
    summary: 'The bytes uploaded',
    tag: 'Files',
    response: 'binary',
  },
  {
    method: 'post',
    path: '/v1/embeddings',
    summary: 'Create embeddings',
    tag: 'Embeddings',
    body: EmbeddingCreateParams,
    response: R.EmbeddingList,
  },
  {
    method: 'post',
    path: '/v1/uploads',
    summary: 'Start a multi-part upload',
    tag: 'Uploads',
    body: UploadCreateParams,
    response: R.Upload,
  },
  {
    method: 'post',
    path: '/v1/uploads/{upload_id}/parts',
    summary: 'Add a part',
    tag: 'Uploads',
    multipart: z.object({ data: z.string().meta({ format: 'binary' }) }),
    response: R.UploadPart,
  },
  {
    method: 'post',
    path: '/v1/uploads/{upload_id}/complete',
    summary: 'Complete an upload into a file',
    tag: 'Uploads',
    body: UploadCompleteParams,
    response: R.Upload,
  },
  {
    method: 'post',
    path: '/v1/uploads/{upload_id}/cancel',
    summary: 'Cancel an upload',
    tag: 'Uploads',
    response: R.Upload,
  },
];

const schema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' });

const ERRORS = {
  400: 'Invalid request',
  401: 'Missing or invalid API key',
  404: 'Not found',
  429: 'Rate limited',
  500: 'Server error',
};

/** The OpenAPI 3.1 document, built from the same zod schemas that validate requests. */
export function openApiDocument(extra: Operation[] = []): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of [...OPERATIONS, ...extra]) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = op.query
      ? Object.entries(op.query.shape).map(([name, s]) => ({
          name,
          in: 'query',
          required: false,
          schema: schema(s as z.ZodType, 'input'),
        }))
      : [];
    const content: Record<string, unknown> = {};
    if (op.body) content['application/json'] = { schema: schema(op.body, 'input') };
    if (op.multipart) content['multipart/form-data'] = { schema: schema(op.multipart, 'input') };
    const ok =
      op.response === 'binary'
        ? { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
        : op.response === 'text'
          ? { 'text/plain': { schema: { type: 'string' } } }
          : { 'application/json': { schema: schema(op.response, 'output') } };
    const errors = Object.fromEntries(
      Object.entries(ERRORS).map(([code, description]) => [
        code,
        { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      ]),
    );
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      summary: op.summary,
      tags: [op.tag],
      ...(op.public ? { security: [] } : {}),
      parameters: [...params, ...query],
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses: { 200: { description: 'OK', content: ok }, ...errors },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'vectordb',
      version: VERSION,
      description: 'OpenAI-compatible Vector Stores API with the MAIA VectorDB dialect.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }, { apiKey: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      schemas: { Error: schema(R.ErrorResponse, 'output') },
    },
    paths,
  };
}

/** The reference page: Scalar's standalone viewer, loaded from its CDN, reading /openapi.json. */
