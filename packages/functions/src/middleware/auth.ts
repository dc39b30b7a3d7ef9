import { DEFAULT_PROJECT_ID, hashKey, projectForKey } from '@vsdb/core/auth/keys';
import { ApiError } from '@vsdb/core/errors';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../app.ts';

const CACHE_MS = 30_000;
const MAX_KEY_LENGTH = 512;

/**
 * `Authorization: Bearer <key>` (the OpenAI SDKs) or `X-API-Key` (MAIA). Sets the caller's project; with no key
 * configured (open mode, loopback only) everything belongs to the default project. Known keys are cached
 * for 30 s, so a revoked key stops working within that time.
 */
export function auth() {
  const cache = new Map<string, { projectId: string; until: number }>();
  return createMiddleware<AppEnv>(async (c, next) => {
    const { db, openAccess } = c.get('deps');
    const bearer = c.req.header('authorization');
    const key = bearer?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? c.req.header('x-api-key')?.trim();
    c.set('apiKey', key);
    if (openAccess) {
      c.set('projectId', DEFAULT_PROJECT_ID);
      return next();
    }
    if (!key) {
      throw new ApiError(
        'missing_api_key',
        'You did not provide an API key. Send it as `Authorization: Bearer YOUR_KEY` or `X-API-Key: YOUR_KEY`.',
      );
    }
    const now = Date.now();
    // Cached by the key's SHA-256, as in the database: no raw key is kept, and a lookup compares digests only.
    const id = key.length <= MAX_KEY_LENGTH ? hashKey(key) : '';
    let hit = cache.get(id);
    if (!hit || hit.until < now) {
      const projectId = id ? await projectForKey(db.sql, key) : undefined;
      if (!projectId) {
        cache.delete(id);
        throw new ApiError('invalid_api_key', 'Incorrect API key provided.');
      }
      hit = { projectId, until: now + CACHE_MS };
      if (cache.size > 10_000) cache.clear();
      cache.set(id, hit);
    }
    c.set('projectId', hit.projectId);
    return next();
  });
}
