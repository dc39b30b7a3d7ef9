import { z } from 'zod';
import { type Filter, type FilterScalar, FlatFilterValue, filterLimitError } from '../search/filters.ts';
import { HYBRID_DEFAULTS } from './ranking.ts';
import { MAX_SQL_LENGTH } from './sql-prepare.ts';

// The wire contract of the MAIA dialect (/maia, docs/MAIA.md): each request and response as MAIA's
// pydantic models (src/maia_vectordb/schemas/*.py) define it. Like pydantic's defaults, unknown request
// fields are ignored. The endpoints (functions/src/maia/) validate with these and document them.

const AnyObject = z.record(z.string(), z.unknown());
const Seconds = z.number().int().describe('Unix seconds');

/** MAIA's CreateVectorStoreRequest: a name, metadata of any JSON, an optional expiry in days. */
export const MaiaStoreCreate = z.object({
  name: z.string().min(1).max(256),
  metadata: z.record(z.string().max(256), z.unknown()).nullish(),
  expires_after: z
    .object({
      anchor: z.literal('last_active_at').default('last_active_at'),
      days: z.number().int().min(1).max(3650),
    })
    .nullish(),
});
export type MaiaStoreCreate = z.infer<typeof MaiaStoreCreate>;

/** MAIA's limit/offset/order listing query. */
export const MaiaListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type MaiaListQuery = z.infer<typeof MaiaListQuery>;

/** MAIA's VectorStoreResponse. */
export const MaiaStore = z.object({
  id: z.string(),
  object: z.literal('vector_store'),
  name: z.string(),
  status: z.enum(['expired', 'in_progress', 'completed']),
  file_counts: z.object({
    in_progress: z.number().int(),
    completed: z.number().int(),
    cancelled: z.number().int(),
    failed: z.number().int(),
    total: z.number().int(),
  }),
  metadata: AnyObject.nullable(),
  created_at: Seconds,
  updated_at: Seconds,
  expires_at: Seconds.nullable(),
});
export type MaiaStore = z.infer<typeof MaiaStore>;

/** MAIA's FileUploadResponse. */
export const MaiaFile = z.object({
  id: z.string(),
  object: z.literal('vector_store.file'),
  vector_store_id: z.string(),
  filename: z.string(),
  status: z.enum(['in_progress', 'completed', 'cancelled', 'failed']),
  bytes: z.number().int(),
  chunk_count: z.number().int(),
  content_type: z.string().nullable(),
  attributes: AnyObject.nullable(),
  purpose: z.string(),
  created_at: Seconds,
});
export type MaiaFile = z.infer<typeof MaiaFile>;

/** MAIA's list envelope (VectorStoreListResponse, FileListResponse): paged by limit and offset. */
const maiaListOf = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });

/** MAIA's DeleteVectorStoreResponse and DeleteFileResponse. */
const maiaDeleted = <O extends string>(object: O) =>
  z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

export const MaiaStoreList = maiaListOf(MaiaStore);
export type MaiaStoreList = z.infer<typeof MaiaStoreList>;
export const MaiaFileList = maiaListOf(MaiaFile);
export type MaiaFileList = z.infer<typeof MaiaFileList>;
export const MaiaStoreDeleted = maiaDeleted('vector_store.deleted');
export type MaiaStoreDeleted = z.infer<typeof MaiaStoreDeleted>;
export const MaiaFileDeleted = maiaDeleted('vector_store.file.deleted');
export type MaiaFileDeleted = z.infer<typeof MaiaFileDeleted>;

/** The form of MAIA's upload: a file part, or `text`; optional `filename` and `attributes` (a JSON object). */
export const MaiaUploadForm = z.object({
  file: z.string().meta({ format: 'binary' }).optional(),
  text: z.string().optional(),
  filename: z.string().optional(),
  attributes: z.string().describe('a JSON object').optional(),
});

/**
 * MAIA's flat filter compares as text (`metadata->>key = str(value)`): a value matches an attribute
 * whose text is the same, whatever JSON type the attribute has.
 */
function maiaFilter(flat: Record<string, FilterScalar> | null | undefined): Filter | undefined {
  if (!flat || !Object.keys(flat).length) return undefined;
  return {
    type: 'and',
    filters: Object.entries(flat).map(([key, value]): Filter => {
      const text = String(value);
      const alternatives: Filter[] = [{ type: 'eq', key, value: text }];
      if (text.trim() !== '' && Number.isFinite(Number(text)))
        alternatives.push({ type: 'eq', key, value: Number(text) });
      if (text === 'true' || text === 'false') alternatives.push({ type: 'eq', key, value: text === 'true' });
      return { type: 'or', filters: alternatives };
    }),
  };
}

/** MAIA's SearchRequest; its flat `filter` is parsed into the filter searched, within the filter limits. */
export const MaiaSearchRequest = z.object({
  query: z.string().min(1).max(4096),
  query_embedding: z.array(z.number().finite()).min(1).max(4096).nullish(),
  max_results: z.number().int().min(1).max(100).default(10),
  filter: z
    .record(z.string().min(1).max(64), FlatFilterValue)
    .nullish()
    .transform((flat, ctx) => {
      const filter = maiaFilter(flat);
      const tooBig = filter && filterLimitError(filter);
      if (tooBig) ctx.addIssue({ code: 'custom', message: tooBig });
      return filter;
    }),
  score_threshold: z.number().min(0).max(1).nullish(),
  search_mode: z.enum(['vector', 'hybrid']).default('vector'),
  ranking_weights: z
    .object({ vector: z.number().min(0).max(1).default(0.7), text: z.number().min(0).max(1).default(0.3) })
    .refine((w) => w.vector > 0 || w.text > 0, 'At least one ranking weight (vector or text) must be > 0.')
    .nullish(),
  half_life_days: z.number().gt(0).default(HYBRID_DEFAULTS.halfLifeDays),
  mmr_lambda: z.number().min(0).max(1).default(HYBRID_DEFAULTS.mmrLambda),
});
export type MaiaSearchRequest = z.infer<typeof MaiaSearchRequest>;

/** MAIA's SearchResponse: hits with `content` a string, `score_details` in hybrid mode only. */
export const MaiaSearchResponse = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      file_id: z.string(),
      filename: z.string().nullable(),
      chunk_index: z.number().int(),
      content: z.string(),
      score: z.number(),
      metadata: AnyObject.nullable(),
      file_attributes: AnyObject.nullable(),
      score_details: z.object({ vector: z.number(), text: z.number(), temporal: z.number() }).nullable(),
    }),
  ),
  search_query: z.string(),
  search_mode: z.enum(['vector', 'hybrid']),
});
export type MaiaSearchResponse = z.infer<typeof MaiaSearchResponse>;

/** MAIA's QueryRequest and QueryResponse: one read-only SELECT over `csv_rows`. */
export const MaiaQueryRequest = z.object({ sql: z.string().max(MAX_SQL_LENGTH) });
export const MaiaQueryResponse = z.object({
  columns: z.array(z.string()),
  rows: z.array(z.array(z.unknown())),
  row_count: z.number().int(),
  truncated: z.boolean(),
});
export type MaiaQueryResponse = z.infer<typeof MaiaQueryResponse>;

/** MAIA's preview query (`limit` 1..500, 50 by default) and PreviewResponse. */
export const MaiaPreviewQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });
export const MaiaPreviewResponse = z.object({
  columns: z.array(AnyObject),
  rows: z.array(AnyObject),
  total_rows: z.number().int(),
});
export type MaiaPreviewResponse = z.infer<typeof MaiaPreviewResponse>;

/** MAIA's EmbedRequest (1..64 texts, no model) and EmbedResponse. */
export const MaiaEmbedRequest = z.object({ input: z.array(z.string()).min(1).max(64) });
export const MaiaEmbedResponse = z.object({ data: z.array(z.array(z.number())) });

/** MAIA's HealthResponse (503 with `degraded` while the database cannot be reached). */
export const MaiaHealth = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.object({ status: z.enum(['ok', 'error']), detail: z.string().nullable() }),
  openai_api_key_set: z.boolean(),
});
export type MaiaHealth = z.infer<typeof MaiaHealth>;

/** MAIA's error envelope: `code` is the HTTP status, as an integer. */
export const MaiaError = z.object({
  error: z.object({ message: z.string(), type: z.string(), code: z.number().int() }),
});
