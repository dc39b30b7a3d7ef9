import { isConnectionError } from '@vsdb/core/db/client';
import { ApiError } from '@vsdb/core/errors';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppEnv } from '../http/env.ts';

// MAIA's error types (core/exceptions.py, core/handlers.py), by HTTP status.
const TYPES: Record<number, string> = {
  400: 'validation_error',
  401: 'authentication_error',
  404: 'not_found',
  413: 'file_too_large',
  415: 'validation_error',
  422: 'validation_error',
  429: 'rate_limit_exceeded',
  500: 'internal_error',
  502: 'embedding_service_error',
  503: 'database_error',
};

/** MAIA's envelope: `{error: {message, type, code}}` with `code` the HTTP status as an integer. */
export function maiaError(c: Context<AppEnv>, status: number, message: string, type?: string) {
  return c.json(
    { error: { message, type: type ?? TYPES[status] ?? 'http_error', code: status } },
    status as 400,
  );
}

function messageFor(err: ApiError): string {
  if (err.status === 401) return 'Invalid or missing API key';
  if (err.code === 'rate_limit_exceeded') return 'Rate limit exceeded. Please slow down.';
  if (err.code === 'not_found' && /^No /.test(err.message))
    return err.param === 'file_id' ? 'File not found' : 'Vector store not found';
  return err.message;
}

/** The MAIA mount's one error handler: every failure becomes MAIA's envelope. */
export function onMaiaError(cause: Error, c: Context<AppEnv>) {
  if (cause instanceof ApiError) {
    for (const [k, v] of Object.entries(cause.headers)) c.header(k, v);
    if (cause.code === 'method_not_allowed') return maiaError(c, 405, 'Method Not Allowed', 'http_error');
    if (cause.status >= 500 && cause.code === 'server_error') logFailure(c, cause);
    return maiaError(c, cause.status, messageFor(cause));
  }
  if (cause instanceof HTTPException) return maiaError(c, cause.status, cause.message || 'Bad request');
  if (isConnectionError(cause) || (cause as { code?: unknown }).code === '57014')
    return maiaError(c, 503, 'Database error');
  logFailure(c, cause);
  return maiaError(c, 500, 'Internal server error');
}

function logFailure(c: Context<AppEnv>, cause: unknown) {
  c.get('log')?.error('request failed', {
    method: c.req.method,
    path: c.req.path,
    request_id: c.get('requestId'),
    error: cause,
  });
}

/** A validation failure in MAIA's (FastAPI's) words: `loc -> field: message`, joined by `; `. */
export function unprocessable(where: 'body' | 'query', issues: { path: PropertyKey[]; message: string }[]) {
  const message = issues
    .map((i) => `${[where, ...i.path.map(String)].join(' -> ')}: ${i.message}`)
    .join('; ');
  return new ApiError('unprocessable', message);
}
