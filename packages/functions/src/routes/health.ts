import { checkDatabase } from '@vsdb/core/db/health';
import { metrics } from '@vsdb/core/metrics';
import { VERSION } from '@vsdb/core/version';
import { z } from 'zod';
import { endpoint } from '../http/endpoint.ts';
import { auth } from '../middleware/auth.ts';

const Health = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  database: z.object({ status: z.enum(['ok', 'error']), detail: z.string() }),
  openai_api_key_set: z.boolean(),
  embedding: z.object({
    provider: z.string(),
    model: z.string(),
    dimensions: z.number().int(),
    semantic: z.boolean(),
  }),
});

/** MAIA's /health (no key needed; 503 and "degraded" while the database cannot be reached) and /metrics. */
export const healthEndpoints = [
  endpoint({
    method: 'get',
    path: '/health',
    summary: 'Service and database health',
    tag: 'Health',
    public: true,
    response: Health,
    handler: async (c) => {
      const { sql, db, config, embedder } = c.get('deps');
      const database = await checkDatabase(sql, 2000, db.ping);
      const status = database.status === 'ok' ? ('ok' as const) : ('degraded' as const);
      c.status(status === 'ok' ? 200 : 503);
      return {
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
      };
    },
  }),
  endpoint({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    tag: 'Health',
    middleware: [auth()],
    response: 'text',
    handler: (c) =>
      c.text(metrics.prometheus(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
  }),
];
