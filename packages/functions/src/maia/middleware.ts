import { randomUUID } from 'node:crypto';
import { ApiError } from '@vsdb/core/errors';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import { createMiddleware } from 'hono/factory';
import { requestId } from 'hono/request-id';
import type { AppEnv } from '../http/env.ts';

/**
 * MAIA's X-Request-ID: the caller's, printable ASCII only and at most 128 characters, else a UUID4. Hono's
 * middleware keeps a plain id as is and asks the generator for any other, which cleans it as MAIA does.
 */
export const maiaRequestId = () =>
  requestId({
    headerName: 'X-Request-ID',
    limitLength: 128,
    generator: (c) => {
      const raw = c.req.header('x-request-id') ?? '';
      return [...raw.slice(0, 128)].filter((ch) => ch >= ' ' && ch <= '~').join('') || randomUUID();
    },
  });

/** MAIA's CORS: the configured origins, with credentials, any method and any header. */
export function maiaCors() {
  return createMiddleware<AppEnv>((c, next) =>
    cors({
      origin: (origin) => (c.get('deps').config.CORS_ORIGINS.includes(origin) ? origin : null),
      credentials: true,
      allowMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS'],
      exposeHeaders: ['X-Request-ID'],
    })(c, next),
  );
}

/** The caller's IP: the socket's on Node, API Gateway's sourceIp on Lambda. */
export function clientIp(c: Context): string {
  const env = c.env as {
    incoming?: { socket?: { remoteAddress?: string } };
    event?: { requestContext?: { http?: { sourceIp?: string } } };
  };
  return env?.event?.requestContext?.http?.sourceIp ?? env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

/** MAIA's slowapi limit: RATE_LIMIT_PER_MINUTE requests per client IP (0 = off). */
export function maiaRateLimit() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const { rateLimiter, config } = c.get('deps');
    const perMinute = config.RATE_LIMIT_PER_MINUTE;
    if (perMinute <= 0) return next();
    const d = await rateLimiter.hit(`maia-ip:${clientIp(c)}`, perMinute);
    if (!d.allowed)
      throw new ApiError('rate_limit_exceeded', 'Rate limit exceeded. Please slow down.', null, {
        'retry-after': String(d.resetSeconds),
      });
    return next();
  });
}
