import { z } from 'zod';
import { ListQuerySchema, Timestamp } from '../schemas.ts';

// The wire contract of /v1/files.

export const FILE_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;

/** The form fields of an upload beside its `file` part. */
export const FileCreateParams = z.object({
  purpose: z.enum(FILE_PURPOSES),
  expires_after: z
    .strictObject({
      anchor: z.literal('created_at'),
      seconds: z.coerce.number().int().min(3600).max(2_592_000),
    })
    .optional(),
});
export type FileCreateParams = z.infer<typeof FileCreateParams>;

export const FileListParams = ListQuerySchema.extend({
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000),
  purpose: z.string().max(64).optional(),
});
export type FileListParams = z.infer<typeof FileListParams>;

export const FileObject = z
  .object({
    id: z.string(),
    object: z.literal('file'),
    bytes: z.number().int(),
    created_at: Timestamp,
    filename: z.string(),
    purpose: z.string(),
    status: z.literal('processed'),
    expires_at: Timestamp.optional(),
  })
  .meta({ id: 'File' });
export type FileObject = z.infer<typeof FileObject>;
