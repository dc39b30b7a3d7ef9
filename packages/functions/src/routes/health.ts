import { checkDatabase } from '@vsdb/core/db/health';
import { metrics } from '@vsdb/core/metrics';
import { VERSION } from '@vsdb/core/version';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { auth } from '../middleware/auth.ts';

/** MAIA's /health (no key needed; 503 and "degraded" while the database cannot be reached) and /metrics. */
export const healthRoutes = new Hono<AppEnv>()
  .get('/health', async (c) => {
    const { db, config, embedder } = c.get('deps');
    const database = await checkDatabase(db.sql);
    const status = database.status === 'ok' ? 'ok' : 'degraded';
    return c.json(
      {
        status,
        version: VERSION,
        database,
        openai_api_key_set: Boolean(config.OPENAI_API_KEY),
        embedding: {
          provider: embedder.kind,
          model: embedder.model,
          dimensions: embedder.dimensions,
          // The offline embedding matches shared words, not meaning: say so where operators look.
          semantic: embedder.semantic,
        },
      },
      status === 'ok' ? 200 : 503,
    );
  })
  .get('/metrics', auth(), (c) =>
    c.text(metrics.prometheus(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  );
