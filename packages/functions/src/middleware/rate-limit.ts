import { hashKey } from '@vsdb/core/auth/keys';
import { ApiError } from '@vsdb/core/errors';
import type { RateLimiter } from '@vsdb/core/rate-limit';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app.ts';

/** RATE_LIMIT_PER_MINUTE per API key (not per IP): a 429 in the OpenAI envelope with Retry-After. */
export function rateLimit(limiter: RateLimiter, perMinute: number) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (perMinute <= 0) return next();
    const key = c.get('apiKey');
    const bucket = key ? hashKey(key) : `project:${c.get('projectId')}`;
    const d = await limiter.hit(bucket, perMinute);
    c.header('x-ratelimit-limit-requests', String(perMinute));
    c.header('x-ratelimit-remaining-requests', String(d.remaining));
    c.header('x-ratelimit-reset-requests', `${d.resetSeconds}s`);
    if (!d.allowed) {
      throw new ApiError(
        'rate_limit_exceeded',
        `Rate limit of ${perMinute} requests per minute reached for this API key; retry in ${d.resetSeconds} s.`,
        null,
        { 'retry-after': String(d.resetSeconds) },
      );
    }
    return next();
  });
}
