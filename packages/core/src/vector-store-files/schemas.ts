import { z } from 'zod';
import { ChunkingStrategySchema } from '../ingest/chunk.ts';
import { AttributesSchema, AttributeValues, ListQuerySchema, Timestamp } from '../schemas.ts';

// The wire contract of /v1/vector_stores/{id}/files: request params and the objects answers carry.

export const VectorStoreFileCreateParams = z.strictObject({
  file_id: z.string().min(1).max(128),
  attributes: AttributesSchema.nullish(),
  chunking_strategy: ChunkingStrategySchema.optional(),
});
export type VectorStoreFileCreateParams = z.infer<typeof VectorStoreFileCreateParams>;

export const VectorStoreFileUpdateParams = z.strictObject({ attributes: AttributesSchema.nullable() });

export const FILE_STATUSES = ['in_progress', 'completed', 'failed', 'cancelled'] as const;
export const VectorStoreFileListParams = ListQuerySchema.extend({ filter: z.enum(FILE_STATUSES).optional() });
export type VectorStoreFileListParams = z.infer<typeof VectorStoreFileListParams>;

export const StaticChunking = z.object({
  type: z.literal('static'),
  static: z.object({ max_chunk_size_tokens: z.number().int(), chunk_overlap_tokens: z.number().int() }),
});
export type StaticChunking = z.infer<typeof StaticChunking>;

export const VectorStoreFile = z
  .object({
    id: z.string(),
    object: z.literal('vector_store.file'),
    vector_store_id: z.string(),
    status: z.enum(FILE_STATUSES),
    usage_bytes: z.number().int(),
    created_at: Timestamp,
    attributes: AttributeValues,
    chunking_strategy: StaticChunking,
    last_error: z
      .object({ code: z.enum(['server_error', 'unsupported_file', 'invalid_file']), message: z.string() })
      .nullable(),
    /** Our extension beside OpenAI's fields: how many chunks the file became. */
    chunk_count: z.number().int().optional(),
  })
  .meta({ id: 'VectorStoreFile' });
export type VectorStoreFileObject = z.infer<typeof VectorStoreFile>;

export const FileContentPage = z.object({
  object: z.literal('vector_store.file_content.page'),
  data: z.array(z.object({ type: z.literal('text'), text: z.string() })),
  has_more: z.boolean(),
  next_page: z.string().nullable(),
});
export type FileContentPage = z.infer<typeof FileContentPage>;

/** Our extension: a file's chunks with their index, page, tokens and place in the parsed text. */
export const FileChunks = z
  .object({
    object: z.literal('vector_store.file.chunks'),
    file_id: z.string(),
    data: z.array(
      z.object({
        object: z.literal('vector_store.file.chunk'),
        chunk_index: z.number().int(),
        page: z.number().int().nullable(),
        tokens: z.number().int(),
        char_start: z.number().int(),
        char_end: z.number().int(),
        text: z.string(),
      }),
    ),
  })
  .meta({ id: 'VectorStoreFileChunks' });
export type FileChunks = z.infer<typeof FileChunks>;
