import { ApiError } from '@vsdb/core/errors';
import type { Context } from 'hono';
import type { z } from 'zod';
import { unstorableAt } from '../http/validate.ts';
import { unprocessable } from './errors.ts';

/** Validates like FastAPI: any failure is a 422 naming every offending field. */
export function validate<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query',
): z.infer<S> {
  const bad = unstorableAt(value);
  if (bad !== undefined) {
    const message = bad.reserved ? 'this key is reserved' : 'NUL characters are not allowed';
    throw unprocessable(where, [{ path: bad.path ? bad.path.split('.') : [], message }]);
  }
  const result = schema.safeParse(value);
  if (!result.success) throw unprocessable(where, result.error.issues);
  return result.data;
}

/** Reads the request body as text, refusing more than `limit` bytes. */
export async function readText(req: Request, limit: number): Promise<string> {
  if (Number(req.headers.get('content-length') ?? 0) > limit)
    throw new ApiError('payload_too_large', `Request body is larger than ${limit} bytes.`);
  if (!req.body) return '';
  const reader = req.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new ApiError('payload_too_large', `Request body is larger than ${limit} bytes.`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** A JSON body validated against `schema` (FastAPI: malformed JSON is a 422 too). */
export async function readBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await readText(c.req.raw, c.get('deps').config.MAX_JSON_BODY_BYTES);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw unprocessable('body', [{ path: [], message: 'JSON decode error' }]);
  }
  return validate(schema, value, 'body');
}

export const readQuery = <S extends z.ZodType>(c: Context, schema: S): z.infer<S> =>
  validate(schema, c.req.query(), 'query');
