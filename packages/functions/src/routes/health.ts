import { checkDatabase } from '@vsdb/core/db/health';
import { VERSION } from '@vsdb/core/version';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';

/** MAIA's /health: no key needed; 503 and "degraded" while the database cannot be reached. */
export const healthRoutes = new Hono<AppEnv>().get('/health', async (c) => {
  const { db, config } = c.get('deps');
  const database = await checkDatabase(db.sql);
  const status = database.status === 'ok' ? 'ok' : 'degraded';
  return c.json(
    { status, version: VERSION, database, openai_api_key_set: Boolean(config.OPENAI_API_KEY) },
    status === 'ok' ? 200 : 503,
  );
});
