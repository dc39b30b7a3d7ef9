import { isConnectionError } from '@vsdb/core/db/client';
import { ApiError } from '@vsdb/core/errors';
import type { Services } from '@vsdb/core/services';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { secureHeaders } from 'hono/secure-headers';
import { type Endpoint, mount } from './http/endpoint.ts';
import type { AppEnv } from './http/env.ts';
import { maiaApp } from './maia/index.ts';
import { auth } from './middleware/auth.ts';
import { observe, requestIds } from './middleware/observe.ts';
import { rateLimit } from './middleware/rate-limit.ts';
import { consoleAssetRoutes } from './routes/console.ts';
import { ENDPOINTS } from './routes/index.ts';

export type { AppEnv } from './http/env.ts';

/**
 * Builds the Hono app: middleware, the endpoints (routes/), and the one place errors become the OpenAI
 * envelope. `extra` endpoints (another dialect's mount) are served and documented like the others.
 */
export function createApp(deps: Services, extra: readonly Endpoint[] = []): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.use(requestIds());
  app.use(observe());
  app.use(secureHeaders({ crossOriginResourcePolicy: 'cross-origin' }));
  const openAiCors = cors({
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
  });
  const notAllowed = methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) => {
      const err = new ApiError(
        'method_not_allowed',
        `Method ${c.req.method} is not allowed on ${c.req.path}.`,
      );
      return c.json(err.toJSON(), 405, { Allow: methods.join(', ') });
    },
  });
  // The MAIA dialect (docs/MAIA.md) answers CORS, 404 and 405 its own way, in its own envelope.
  const maia = (c: { req: { path: string } }) => c.req.path === '/maia' || c.req.path.startsWith('/maia/');
  app.use((c, next) => (maia(c) ? next() : openAiCors(c, next)));
  app.use((c, next) => (maia(c) ? next() : notAllowed(c, next)));
  app.route('/maia', maiaApp(deps.config.MAX_JSON_BODY_BYTES));
  app.route('/', consoleAssetRoutes);
  app.use('/v1/*', auth());
  app.use('/v1/*', rateLimit(deps.rateLimiter, deps.config.RATE_LIMIT_PER_MINUTE));
  app.use('/v1/*', async (c, next) => {
    // Ids go to Postgres as text, which cannot hold NUL: refuse %00 here rather than fail in the database.
    if (c.req.path.includes('\u0000') || /%00/i.test(c.req.path)) {
      throw new ApiError('invalid_request', 'The URL path must not contain NUL characters.');
    }
    await next();
  });
  mount(app, [...ENDPOINTS, ...extra], { maxJsonBytes: deps.config.MAX_JSON_BODY_BYTES });

  app.notFound((c) => {
    const err = new ApiError('not_found', `Unknown route: ${c.req.method} ${c.req.path}`);
    return c.json(err.toJSON(), 404);
  });
  app.onError((cause, c) => {
    let err = toApiError(cause);
    // The client went away before the answer (a reset mid-body, a closed connection): its doing, not ours.
    if (err.status >= 500 && c.req.raw.signal?.aborted)
      err = new ApiError(
        'invalid_request',
        'The client closed the connection before the request was complete.',
      );
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
