import { checkDatabase } from '@vsdb/core/db/health';
import { metrics } from '@vsdb/core/metrics';
import { VERSION } from '@vsdb/core/version';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../app.ts';
import { readBody } from './http.ts';
import { MAIA_DOCS_HTML, MAIA_REDOC_HTML, maiaOpenApi } from './openapi.ts';

/** MAIA's EmbedRequest: 1..64 texts, no model. */
export const MaiaEmbedRequest = z.object({ input: z.array(z.string()).min(1).max(64) });

/** The routes MAIA serves without a key: /health, /metrics, /docs, /redoc, /openapi.json. */
export const maiaPublicRoutes = new Hono<AppEnv>()
  .get('/health', async (c) => {
    const { db, config } = c.get('deps');
    const ok = (await checkDatabase(db.sql)).status === 'ok';
    return c.json(
      {
        status: ok ? 'ok' : 'degraded',
        version: VERSION,
        database: ok
          ? { status: 'ok', detail: null }
          : { status: 'error', detail: 'Database connection failed' },
        openai_api_key_set: Boolean(config.OPENAI_API_KEY),
      },
      ok ? 200 : 503,
    );
  })
  .get('/metrics', (c) =>
    c.text(metrics.prometheus(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  )
  .get('/openapi.json', (c) => c.json(maiaOpenApi()))
  .get('/docs', (c) => c.html(MAIA_DOCS_HTML))
  .get('/redoc', (c) => c.html(MAIA_REDOC_HTML));

/** MAIA's /v1/embeddings: `{input: [...]}` in, `{data: [[...], ...]}` out. */
export const maiaEmbeddingRoutes = new Hono<AppEnv>().post('/', async (c) => {
  const { embedder, config } = c.get('deps');
  const body = await readBody(c, MaiaEmbedRequest);
  const result = await embedder.embed(body.input, { deadlineMs: config.SEARCH_EMBEDDING_TIMEOUT_MS });
  return c.json({ data: result.embeddings });
});
