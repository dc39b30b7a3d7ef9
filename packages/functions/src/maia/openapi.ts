import { MaiaSearchRequest } from '@vsdb/core/maia/search';
import { MaiaListQuery, MaiaStoreCreate } from '@vsdb/core/maia/stores';
import { MaiaPreviewQuery, MaiaQueryRequest } from '@vsdb/core/maia/structured';
import { VERSION } from '@vsdb/core/version';
import { z } from 'zod';

const Any = z.record(z.string(), z.unknown());
const FileCounts = z.object({
  in_progress: z.number().int(),
  completed: z.number().int(),
  cancelled: z.number().int(),
  failed: z.number().int(),
  total: z.number().int(),
});
const Store = z.object({
  id: z.string(),
  object: z.literal('vector_store'),
  name: z.string(),
  status: z.enum(['expired', 'in_progress', 'completed']),
  file_counts: FileCounts,
  metadata: Any.nullable(),
  created_at: z.number().int(),
  updated_at: z.number().int(),
  expires_at: z.number().int().nullable(),
});
const File = z.object({
  id: z.string(),
  object: z.literal('vector_store.file'),
  vector_store_id: z.string(),
  filename: z.string(),
  status: z.enum(['in_progress', 'completed', 'cancelled', 'failed']),
  bytes: z.number().int(),
  chunk_count: z.number().int(),
  content_type: z.string().nullable(),
  attributes: Any.nullable(),
  purpose: z.string(),
  created_at: z.number().int(),
});
const list = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });
const deleted = (object: string) =>
  z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });
const SearchResponse = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      file_id: z.string(),
      filename: z.string().nullable(),
      chunk_index: z.number().int(),
      content: z.string(),
      score: z.number(),
      metadata: Any.nullable(),
      file_attributes: Any.nullable(),
      score_details: z.object({ vector: z.number(), text: z.number(), temporal: z.number() }).nullable(),
    }),
  ),
  search_query: z.string(),
  search_mode: z.enum(['vector', 'hybrid']),
});
const QueryResponse = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())),
  row_count: z.number().int(),
  truncated: z.boolean(),
});
const PreviewResponse = z.object({ columns: z.array(Any), rows: z.array(Any), total_rows: z.number().int() });
const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.object({ status: z.enum(['ok', 'error']), detail: z.string().nullable() }),
  openai_api_key_set: z.boolean(),
});
const Upload = z.object({
  file: z.string().meta({ format: 'binary' }).optional(),
  text: z.string().optional(),
  filename: z.string().optional(),
  attributes: z.string().describe('a JSON object').optional(),
});
const ErrorBody = z.object({
  error: z.object({ message: z.string(), type: z.string(), code: z.number().int() }),
});

type Op = [
  method: string,
  path: string,
  summary: string,
  tag: string,
  body: z.ZodType | null,
  ok: z.ZodType,
  extra?: { query?: z.ZodObject; form?: boolean; status?: number; public?: boolean },
];
const vs = '/v1/vector_stores/{vector_store_id}';
const OPS: Op[] = [
  ['get', '/health', 'Service health check', 'health', null, Health, { public: true }],
  ['get', '/metrics', 'Prometheus metrics (text)', 'health', null, z.string(), { public: true }],
  ['get', '/openapi.json', 'This document', 'health', null, Any, { public: true }],
  ['get', '/docs', 'Swagger UI (a browser page)', 'health', null, z.string(), { public: true }],
  ['get', '/redoc', 'ReDoc (a browser page)', 'health', null, z.string(), { public: true }],
  [
    'post',
    '/v1/vector_stores',
    'Create a vector store',
    'vector_stores',
    MaiaStoreCreate,
    Store,
    { status: 201 },
  ],
  [
    'get',
    '/v1/vector_stores',
    'List vector stores',
    'vector_stores',
    null,
    list(Store),
    { query: MaiaListQuery },
  ],
  ['get', vs, 'Retrieve a vector store', 'vector_stores', null, Store],
  ['delete', vs, 'Delete a vector store', 'vector_stores', null, deleted('vector_store.deleted')],
  ['post', `${vs}/files`, 'Upload a file or raw text', 'files', Upload, File, { form: true, status: 201 }],
  ['get', `${vs}/files`, 'List files', 'files', null, list(File), { query: MaiaListQuery }],
  ['get', `${vs}/files/{file_id}`, 'Retrieve a file', 'files', null, File],
  ['delete', `${vs}/files/{file_id}`, 'Delete a file', 'files', null, deleted('vector_store.file.deleted')],
  ['post', `${vs}/search`, 'Search a vector store', 'search', MaiaSearchRequest, SearchResponse],
  [
    'post',
    `${vs}/query`,
    "Query the store's CSV rows with SQL",
    'structured',
    MaiaQueryRequest,
    QueryResponse,
  ],
  [
    'post',
    `${vs}/files/{file_id}/query`,
    "Query one CSV file's rows with SQL",
    'structured',
    MaiaQueryRequest,
    QueryResponse,
  ],
  [
    'get',
    `${vs}/files/{file_id}/preview`,
    'Preview a CSV file',
    'structured',
    null,
    PreviewResponse,
    { query: MaiaPreviewQuery },
  ],
  [
    'post',
    '/v1/embeddings',
    'Embed texts',
    'embeddings',
    z.object({ input: z.array(z.string()).min(1).max(64) }),
    z.object({ data: z.array(z.array(z.number())) }),
  ],
];

const schema = (s: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(s, { target: 'draft-2020-12', io, unrepresentable: 'any', reused: 'inline' });

/** The OpenAPI document of the MAIA dialect, paths relative to the /maia mount. */
export function maiaOpenApi() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [method, path, summary, tag, body, ok, extra = {}] of OPS) {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = extra.query
      ? Object.entries(extra.query.shape).map(([name, s]) => ({
          name,
          in: 'query',
          required: false,
          schema: schema(s as z.ZodType, 'input'),
        }))
      : [];
    const type = extra.form ? 'multipart/form-data' : 'application/json';
    paths[path] ??= {};
    paths[path][method] = {
      summary,
      tags: [tag],
      ...(extra.public ? { security: [] } : {}),
      parameters: [...params, ...query],
      ...(body
        ? { requestBody: { required: true, content: { [type]: { schema: schema(body, 'input') } } } }
        : {}),
      responses: {
        [extra.status ?? 200]: {
          description: 'OK',
          content: { 'application/json': { schema: schema(ok, 'output') } },
        },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: schema(ErrorBody, 'output') } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'MAIA VectorDB',
      version: VERSION,
      description: 'The MAIA VectorDB dialect of this service.',
    },
    servers: [{ url: '/maia' }],
    security: [{ apiKey: [] }],
    components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
    paths,
  };
}

export const MAIA_DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>MAIA VectorDB - Swagger UI</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css" /></head>
<body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/maia/openapi.json', dom_id: '#swagger-ui' });</script>
</body></html>
`;

export const MAIA_REDOC_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>MAIA VectorDB - ReDoc</title></head>
<body><redoc spec-url="/maia/openapi.json"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"></script>
</body></html>
`;
