import type { BlobStore } from '@vsdb/core/blobs/store';
import type { Config } from '@vsdb/core/config';
import type { Database } from '@vsdb/core/db/client';
import { isConnectionError } from '@vsdb/core/db/client';
import type { EmbeddingProvider } from '@vsdb/core/embedding/provider';
import { ApiError } from '@vsdb/core/errors';
import type { JobRunner } from '@vsdb/core/ingest/queue';
import type { Logger } from '@vsdb/core/logger';
import type { RateLimiter } from '@vsdb/core/rate-limit';
import type { QueryEmbeddingCache } from '@vsdb/core/search/query-cache';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { auth } from './middleware/auth.ts';
import { observe } from './middleware/observe.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { chunkRoutes } from './routes/chunks.ts';
import { consoleRoutes } from './routes/console.ts';
import { docsRoutes } from './routes/docs.ts';
import { embeddingRoutes } from './routes/embeddings.ts';
import { fileBatchRoutes } from './routes/file-batches.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { multiStoreSearchRoutes, vectorStoreSearchRoutes } from './routes/search.ts';
import { uploadRoutes } from './routes/uploads.ts';
import { vectorStoreFileRoutes } from './routes/vector-store-files.ts';
import { vectorStoreRoutes } from './routes/vector-stores.ts';

/** Everything a handler needs, reached through the typed context variable `deps`. */
export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  blobs: BlobStore;
  embedder: EmbeddingProvider;
  jobs: JobRunner;
  queryCache: QueryEmbeddingCache;
  rateLimiter: RateLimiter;
  /** No key configured: every request belongs to the default project (only allowed on a loopback HOST). */
  openAccess: boolean;
}

export type AppEnv = {
  Variables: { deps: AppDeps; projectId: string; apiKey: string | undefined; requestId: string; log: Logger };
};

/** Builds the Hono app: middleware, routes, and the one place errors become the OpenAI envelope. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use(observe());
  app.use(secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }));
  app.use(
    cors({
      // An allow-list; empty means no cross-origin access at all.
      origin: (origin) => (deps.config.CORS_ORIGINS.includes(origin) ? origin : null),
      allowHeaders: [
        'Authorization',
        'X-API-Key',
        'Content-Type',
        'OpenAI-Beta',
        'X-Request-Id',
        'X-Stainless-*',
      ],
      exposeHeaders: ['X-Request-Id', 'openai-poll-after-ms', 'Retry-After'],
      maxAge: 600,
    }),
  );
  app.route('/', healthRoutes);
  app.route('/', docsRoutes);
  app.route('/', consoleRoutes);
  app.use('/v1/*', auth());
  app.use('/v1/*', rateLimit(deps.rateLimiter, deps.config.RATE_LIMIT_PER_MINUTE));
  app.use('/v1/*', async (c, next) => {
    // Ids go to Postgres as text, which cannot hold NUL: refuse %00 here rather than fail in the database.
    if (c.req.path.includes('\u0000') || /%00/i.test(c.req.path)) {
      throw new ApiError('invalid_request', 'The URL path must not contain NUL characters.');
    }
    await next();
  });
  app.route('/v1/vector_stores', vectorStoreRoutes);
  app.route('/v1/vector_stores', vectorStoreFileRoutes);
  app.route('/v1/vector_stores', fileBatchRoutes);
  app.route('/v1/vector_stores', vectorStoreSearchRoutes);
  app.route('/v1/vector_stores', chunkRoutes);
  app.route('/v1/search', multiStoreSearchRoutes);
  app.route('/v1/files', fileRoutes);
  app.route('/v1/embeddings', embeddingRoutes);
  app.route('/v1/uploads', uploadRoutes);

  app.notFound((c) => {
    const known = app.routes.some(
      (r) => r.method !== c.req.method && r.method !== 'ALL' && matches(r.path, c.req.path),
    );
    const err = known
      ? new ApiError('method_not_allowed', `Method ${c.req.method} is not allowed on ${c.req.path}.`)
      : new ApiError('not_found', `Unknown route: ${c.req.method} ${c.req.path}`);
    return c.json(err.toJSON(), err.status as 404);
  });
  app.onError((cause, c) => {
    let err = toApiError(cause);
    if (err.status >= 500) {
      const requestId = c.get('requestId');
      if (err.code === 'server_error') {
        c.get('log').error('request failed', {
          method: c.req.method,
          path: c.req.path,
          request_id: requestId,
          error: cause,
        });
      }
      err = new ApiError(err.code, `${err.message} (request id: ${requestId})`, err.param, err.headers);
    }
    for (const [k, v] of Object.entries(err.headers)) c.header(k, v);
    return c.json(err.toJSON(), err.status as 400);
  });
  return app;
}

function matches(pattern: string, path: string): boolean {
  if (pattern.includes('*')) return false;
  const re = new RegExp(`^${pattern.replace(/:[^/]+/g, '[^/]+')}/?$`);
  return re.test(path);
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
  // 57014: DATABASE_STATEMENT_TIMEOUT_MS cancelled the statement; the database is overloaded, not our code wrong.
  if ((cause as { code?: unknown } | null)?.code === '57014')
    return new ApiError('database_unavailable', 'The database did not answer in time; try again shortly.');
  return new ApiError('server_error', 'The server had an error while processing your request.');
}
