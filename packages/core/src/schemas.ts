import { z } from 'zod';

/** OpenAI's metadata: at most 16 keys, keys up to 64 chars, string values up to 512 chars. */
export const MetadataSchema = z
  .record(
    z.string().max(64, 'metadata keys can be at most 64 characters'),
    z.string().max(512, 'metadata values can be at most 512 characters'),
  )
  .refine((m) => Object.keys(m).length <= 16, 'metadata can have at most 16 keys');

/** Attributes: like metadata, but values may also be numbers and booleans (filters compare them by type). */
export const AttributesSchema = z
  .record(
    z.string().max(64, 'attribute keys can be at most 64 characters'),
    z.union([
      z.string().max(512, 'attribute values can be at most 512 characters'),
      z.number().finite(),
      z.boolean(),
    ]),
  )
  .refine((m) => Object.keys(m).length <= 16, 'attributes can have at most 16 keys');

// RFC 9110 media type: type/subtype, then `; name=value` parameters (token or quoted string), ASCII only.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"(?:[\\t !#-\\[\\]-~]|\\\\[\\t -~])*"))*$`,
);

/** True for a media type that can be sent back as a Content-Type header as is (no CR/LF, controls, non-ASCII). */
export const isMediaType = (s: string) => s.length <= 255 && MEDIA_TYPE.test(s);

/** A file's mime type, checked when it arrives: it is sent back in Content-Type on every download. */
export const MediaTypeSchema = z
  .string()
  .trim()
  .min(1)
  .refine(isMediaType, 'must be a media type such as text/plain (ASCII, at most 255 characters)');

/** Control characters (C0, DEL, C1): never part of a file name worth keeping, and unsafe in headers and logs. */
export function hasControlChars(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

export type Metadata = z.infer<typeof MetadataSchema>;
export type Attributes = z.infer<typeof AttributesSchema>;

/** Query of every cursor-paginated list. */
export const ListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(['asc', 'desc']).default('desc'),
  after: z.string().min(1).max(128).optional(),
  before: z.string().min(1).max(128).optional(),
});
export type ListQuery = z.infer<typeof ListQuerySchema>;

export interface ListPage<T extends { id: string }> {
  object: 'list';
  data: T[];
  first_id: string;
  last_id: string;
  has_more: boolean;
}

// Pieces of the response schemas: each resource's schemas.ts builds its wire shape from these.

export const Timestamp = z.number().int().describe('Unix seconds');
export const AttributeValues = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** The OpenAI list envelope around `item`. */
export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    object: z.literal('list'),
    data: z.array(item),
    first_id: z.string(),
    last_id: z.string(),
    has_more: z.boolean(),
  });

/** The answer to a DELETE: `{id, object, deleted: true}`. */
export const deletedOf = <O extends string>(object: O) =>
  z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

/** The OpenAI error envelope every 4xx and 5xx carries. */
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

/** The OpenAI list envelope around one page of rows. */
export function listPage<T extends { id: string }>(data: T[], hasMore: boolean): ListPage<T> {
  return {
    object: 'list',
    data,
    // The spec types both as required strings: an empty page has empty ones.
    first_id: data[0]?.id ?? '',
    last_id: data.at(-1)?.id ?? '',
    has_more: hasMore,
  };
}

/** Unix seconds, as OpenAI sends timestamps. */
export const unix = (d: Date | null | undefined): number | null =>
  d ? Math.floor(d.getTime() / 1000) : null;
