import { z } from 'zod';
import { ChunkingStrategySchema } from '../ingest/chunk.ts';
import { MetadataSchema, Timestamp } from '../schemas.ts';

// The wire contract of /v1/vector_stores: request params and the object every answer carries.

const ExpiresAfter = z.strictObject({
  anchor: z.literal('last_active_at'),
  days: z.number().int().min(1).max(365),
});

export const VectorStoreCreateParams = z.strictObject({
  name: z.string().max(256).optional(),
  description: z.string().max(512).optional(),
  file_ids: z.array(z.string().min(1).max(128)).max(500).optional(),
  chunking_strategy: ChunkingStrategySchema.optional(),
  metadata: MetadataSchema.nullish(),
  expires_after: ExpiresAfter.optional(),
});
export type VectorStoreCreateParams = z.infer<typeof VectorStoreCreateParams>;

export const VectorStoreUpdateParams = z.strictObject({
  name: z.string().max(256).nullish(),
  metadata: MetadataSchema.nullish(),
  expires_after: ExpiresAfter.nullish(),
});
export type VectorStoreUpdateParams = z.infer<typeof VectorStoreUpdateParams>;

export const FileCounts = z.object({
  in_progress: z.number().int(),
  completed: z.number().int(),
  failed: z.number().int(),
  cancelled: z.number().int(),
  total: z.number().int(),
});
export type FileCounts = z.infer<typeof FileCounts>;

export const VectorStore = z
  .object({
    id: z.string(),
    object: z.literal('vector_store'),
    created_at: Timestamp,
    name: z.string(),
    description: z.string().optional(),
    usage_bytes: z.number().int(),
    last_active_at: Timestamp.nullable(),
    status: z.enum(['expired', 'in_progress', 'completed']),
    file_counts: FileCounts,
    metadata: z.record(z.string(), z.string()),
    expires_after: ExpiresAfter.optional(),
    expires_at: Timestamp.nullable(),
  })
  .meta({ id: 'VectorStore' });
export type VectorStoreObject = z.infer<typeof VectorStore>;
