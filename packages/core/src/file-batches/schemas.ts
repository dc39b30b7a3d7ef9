import { z } from 'zod';
import { ChunkingStrategySchema } from '../ingest/chunk.ts';
import { AttributesSchema, Timestamp } from '../schemas.ts';
import { FileCounts } from '../vector-stores/schemas.ts';

// The wire contract of /v1/vector_stores/{id}/file_batches.

const FileId = z.string().min(1).max(128);

export const FileBatchCreateParams = z
  .strictObject({
    file_ids: z.array(FileId).min(1).max(2000).optional(),
    files: z
      .array(
        z.strictObject({
          file_id: FileId,
          attributes: AttributesSchema.nullish(),
          chunking_strategy: ChunkingStrategySchema.optional(),
        }),
      )
      .min(1)
      .max(2000)
      .optional(),
    attributes: AttributesSchema.nullish(),
    chunking_strategy: ChunkingStrategySchema.optional(),
  })
  .superRefine((p, ctx) => {
    if (!p.file_ids === !p.files) {
      ctx.addIssue({ code: 'custom', path: ['file_ids'], message: 'give exactly one of file_ids or files' });
    }
  });
export type FileBatchCreateParams = z.infer<typeof FileBatchCreateParams>;

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
export type FileBatchObject = z.infer<typeof FileBatch>;
