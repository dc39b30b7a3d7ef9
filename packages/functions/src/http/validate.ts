import { ApiError } from '@vsdb/core/errors';
import type { Context } from 'hono';
import type { z } from 'zod';

/** Turns the first zod issue into a 400 that names the offending field in `param`. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where = 'body'): z.infer<S> {
  const bad = unstorableAt(value);
  if (bad !== undefined) {
    throw new ApiError(
      'invalid_request',
      bad.reserved
        ? `Invalid '${bad.path}': the key '__proto__' is not accepted (it could not be stored or matched as sent).`
        : `Invalid '${bad.path || `request ${where}`}': text must not contain NUL characters or unpaired surrogates.`,
      bad.path || null,
    );
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    // As OpenAI answers a field it does not know (our own documented extensions are declared).
    const at = [...issue.path.map(String), issue.keys[0]!].join('.');
    throw new ApiError('invalid_request', `Unrecognized request argument supplied: ${at}`, at);
  }
  const param = issue.path.length ? issue.path.map(String).join('.') : null;
  const subject = param ?? `request ${where}`;
  throw new ApiError('invalid_request', `Invalid '${subject}': ${issue.message}`, param);
}

/** True for text Postgres cannot store: NUL, or an unpaired UTF-16 surrogate (jsonb refuses its escape). */
export const isUnstorable = (s: string) => s.includes('\u0000') || !s.isWellFormed();

/**
 * The path (dot-joined, '' for the value itself) of the first string or key that Postgres cannot store, or of
 * the first `__proto__` key (`reserved`): JSON.parse makes it an own key, but any object built from it (zod's
 * records among them) would set a prototype instead, dropping the key and whatever it held (a filter, say).
 * Walked without recursion: a body may nest as deep as JSON.parse allows.
 */
export function unstorableAt(value: unknown): { path: string; reserved: boolean } | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      if (isUnstorable(v)) return { path, reserved: false };
    } else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k;
        if (k === '__proto__') return { path: at, reserved: true };
        if (isUnstorable(k)) return { path: at, reserved: false };
        stack.push([child, at]);
      }
    }
  }
  return undefined;
}

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/** OpenAI's reading of a JSON body: empty counts as `{}`, another Content-Type is 415, bad UTF-8 or JSON 400. */
export function decodeJson(c: Context, bytes: ArrayBuffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError('invalid_json', 'The request body is not valid UTF-8.');
  }
  if (text.trim() === '') return {};
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim();
  if (type && !JSON_TYPE.test(type)) {
    throw new ApiError('unsupported_media_type', `Expected Content-Type application/json, got '${type}'.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ApiError(
      'invalid_json',
      `We could not parse the JSON body of your request: ${(err as Error).message}`,
    );
  }
}

/** The bytes of a request body, already bounded by the endpoint's body limit. */
export async function readBytes(req: Request): Promise<ArrayBuffer> {
  if (!req.body) return new ArrayBuffer(0);
  try {
    return await req.arrayBuffer();
  } catch (err) {
    // The endpoint's body limit answers 413 for its own error.
    if (err instanceof ApiError || (err as Error | null)?.name === 'BodyLimitError') throw err;
    // The client went away mid-body: its error (a 400 in the metrics), never database_unavailable.
    throw new ApiError('invalid_request', 'The request body was cut off before it was complete.');
  }
}
