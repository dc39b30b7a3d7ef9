import { z } from 'zod';
import { FILE_PURPOSES, FileObject } from '../files/schemas.ts';
import { UPLOAD_MAX_PARTS } from '../limits.ts';
import { hasControlChars, MediaTypeSchema, Timestamp } from '../schemas.ts';

// The wire contract of /v1/uploads.

export const UploadCreateParams = z.strictObject({
  filename: z
    .string()
    .trim()
    .min(1)
    .max(512)
    .refine((s) => !hasControlChars(s), 'must not contain control characters'),
  purpose: z.enum(FILE_PURPOSES),
  bytes: z.number().int().min(1),
  // Sent back in Content-Type on every download of the file.
  mime_type: MediaTypeSchema,
  expires_after: z
    .strictObject({ anchor: z.literal('created_at'), seconds: z.number().int().min(3600).max(2_592_000) })
    .optional(),
});
export type UploadCreateParams = z.infer<typeof UploadCreateParams>;

export const UploadCompleteParams = z.strictObject({
  part_ids: z.array(z.string().min(1).max(128)).min(1).max(UPLOAD_MAX_PARTS),
  md5: z
    .string()
    .regex(/^[0-9a-fA-F]{32}$/, 'must be 32 hexadecimal characters')
    .optional(),
});
export type UploadCompleteParams = z.infer<typeof UploadCompleteParams>;

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
export type UploadObject = z.infer<typeof Upload>;

export const UploadPart = z.object({
  id: z.string(),
  object: z.literal('upload.part'),
  created_at: Timestamp,
  upload_id: z.string(),
});
export type UploadPartObject = z.infer<typeof UploadPart>;
