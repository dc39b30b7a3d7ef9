import type { Config } from '@vsdb/core/config';
import type { Database } from '@vsdb/core/db/client';
import { isConnectionError } from '@vsdb/core/db/client';
import { ApiError } from '@vsdb/core/errors';
import type { Logger } from '@vsdb/core/logger';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { healthRoutes } from './routes/health.ts';

/** Everything a handler needs, reached through the typed context variable `deps`. */
export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
}

export type AppEnv = { Variables: { deps: AppDeps } };

/** Builds the Hono app: middleware, routes, and the one place errors become the OpenAI envelope. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const log = deps.logger.child('http');
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.route('/', healthRoutes);

  app.notFound((c) => {
    const err = new ApiError('not_found', `Unknown route: ${c.req.method} ${c.req.path}`);
    return c.json(err.toJSON(), 404);
  });
  app.onError((cause, c) => {
    const err = toApiError(cause);
    if (err.status >= 500)
      log.error('request failed', { method: c.req.method, path: c.req.path, error: cause });
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json(err.toJSON(), err.status as 400);
  });
  return app;
}

function toApiError(cause: unknown): ApiError {
  if (cause instanceof ApiError) return cause;
  if (cause instanceof HTTPException) {
    const code =
      cause.status === 413
        ? 'payload_too_large'
        : cause.status === 401
          ? 'invalid_api_key'
          : 'invalid_request';
    return new ApiError(code, cause.message || 'Bad request');
  }
  if (isConnectionError(cause))
    return new ApiError('database_unavailable', 'The database is unavailable; try again shortly.');
  return new ApiError('server_error', 'The server had an error while processing your request.');
}
