import { z } from 'zod';

// The response shapes of the HTTP contract (the SDK's types), for the OpenAPI document.

const Scalar = z.union([z.string(), z.number(), z.boolean()]);
const Timestamp = z.number().int().describe('Unix seconds');
const FileCounts = z.object({
  in_progress: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  total: z.number().int(),
});
const StaticChunking = z.object({
  type: z.literal('static'),
  static: z.object({ max_chunk_size_tokens: z.number().int(), chunk_overlap_tokens: z.number().int() }),
});

export const ErrorResponse = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .meta({ id: 'Error' });

export const VectorStore = z
  .object({
    id: z.string(),
    object: z.literal('vector_store'),
    created_at: Timestamp,
    name: z.string().nullable(),
    description: z.string().nullable(),
    usage_bytes: z.number().int(),
    last_active_at: Timestamp.nullable(),
    status: z.enum(['expired', 'in_progress', 'completed']),
    file_counts: FileCounts,
    metadata: z.record(z.string(), z.string()),
    expires_after: z.object({ anchor: z.literal('last_active_at'), days: z.number().int() }).nullable(),
    expires_at: Timestamp.nullable(),
  })
  .meta({ id: 'VectorStore' });

export const FileObject = z
  .object({
    id: z.string(),
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: Timestamp,
    filename: z.string(),
    purpose: z.string(),
    status: z.literal('processed'),
    expires_at: Timestamp.nullable(),
    status_details: z.null(),
  })
  .meta({ id: 'File' });

export const VectorStoreFile = z
  .object({
    id: z.string(),
    object: z.literal('vector_store.file'),
    vector_store_id: z.string(),
    status: z.enum(['in_progress', 'completed', 'failed', 'cancelled']),
    usage_bytes: z.number().int(),
    created_at: Timestamp,
    attributes: z.record(z.string(), Scalar),
    chunking_strategy: StaticChunking,
    last_error: z
      .object({ code: z.enum(['server_error', 'unsupported_file', 'invalid_file']), message: z.string() })
      .nullable(),
  })
  .meta({ id: 'VectorStoreFile' });

export const FileBatch = z
  .object({
    id: z.string(),
    object: z.literal('vector_store.files_batch'),
    vector_store_id: z.string(),
    status: z.enum(['in_progress', 'completed', 'cancelled', 'failed']),
    file_counts: FileCounts,
    created_at: Timestamp,
  })
  .meta({ id: 'VectorStoreFileBatch' });

export const FileContentPage = z.object({
  object: z.literal('vector_store.file_content.page'),
  data: z.array(z.object({ type: z.literal('text'), text: z.string() })),
  has_more: z.boolean(),
  next_page: z.string().nullable(),
});

export const FileChunks = z
  .object({
    object: z.literal('vector_store.file.chunks'),
    file_id: z.string(),
    text: z
      .string()
      .describe('the parsed text, rebuilt from the chunks (gaps between chunks become one space or newline)'),
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

export const SearchResultsPage = z
  .object({
    object: z.literal('vector_store.search_results.page'),
    search_query: z.array(z.string()),
    data: z.array(
      z.object({
        file_id: z.string(),
        filename: z.string(),
        score: z.number().min(0).max(1),
        attributes: z.record(z.string(), Scalar),
        content: z.array(z.object({ type: z.literal('text'), text: z.string() })),
        vector_store_id: z.string(),
        chunk_index: z.number().int(),
        page: z.number().int().nullable(),
        score_details: z.object({ vector: z.number().nullable(), text: z.number().nullable() }),
      }),
    ),
    has_more: z.boolean(),
    next_page: z.string().nullable(),
  })
  .meta({ id: 'SearchResultsPage' });

export const EmbeddingList = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({
      object: z.literal('embedding'),
      index: z.number().int(),
      embedding: z.union([z.array(z.number()), z.string().describe('base64 little-endian float32')]),
    }),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number().int(), total_tokens: z.number().int() }),
});

export const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.object({ status: z.enum(['ok', 'error']), detail: z.string() }),
  openai_api_key_set: z.boolean(),
  embedding: z.object({
    provider: z.string(),
    model: z.string(),
    dimensions: z.number().int(),
    semantic: z.boolean(),
  }),
});

/** The OpenAI list envelope. */
export const listOf = (item: z.ZodType) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  });

export const deletedOf = (object: string) =>
  z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

export const Upload = z
  .object({
    id: z.string(),
    object: z.literal('upload'),
    bytes: z.number().int(),
    created_at: Timestamp,
    filename: z.string(),
    purpose: z.string(),
    status: z.enum(['pending', 'completed', 'cancelled', 'expired']),
    expires_at: Timestamp,
    file: FileObject.nullable(),
  })
  .meta({ id: 'Upload' });

export const UploadPart = z.object({
  id: z.string(),
  object: z.literal('upload.part'),
  created_at: Timestamp,
  upload_id: z.string(),
});
