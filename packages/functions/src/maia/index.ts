import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { auth } from '../middleware/auth.ts';
import { maiaError, onMaiaError, unprocessable } from './errors.ts';
import { maiaFileRoutes } from './files.ts';
import { maiaCors, maiaRateLimit, maiaRequestId } from './middleware.ts';
import { maiaSearchRoutes } from './search.ts';
import { maiaEmbeddingRoutes, maiaPublicRoutes } from './service.ts';
import { maiaStoreRoutes } from './stores.ts';

/**
 * The MAIA VectorDB dialect, mounted at /maia (MAIA_API_BASE=http://host/maia): its paths, shapes,
 * status codes and error envelope, over the same data as the OpenAI mount. See docs/MAIA.md.
 */
export function maiaApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(maiaRequestId());
  app.use(maiaCors());
  app.use(maiaRateLimit());
  app.route('/', maiaPublicRoutes);
  app.use('/v1/*', auth());
  app.use('/v1/*', async (c, next) => {
    // Ids go to Postgres as text, which cannot hold NUL: FastAPI would refuse such an id as invalid too.
    if (c.req.path.includes('\u0000') || /%00/i.test(c.req.path))
      throw unprocessable('query', [{ path: ['path'], message: 'NUL characters are not allowed' }]);
    await next();
  });
  app.route('/v1/vector_stores', maiaStoreRoutes);
  app.route('/v1/vector_stores', maiaFileRoutes);
  app.route('/v1/vector_stores', maiaSearchRoutes);
  app.route('/v1/embeddings', maiaEmbeddingRoutes);
  // Starlette's answers for a path it does not know and for a method a path does not take.
  app.all('*', (c) => {
    const known = app.routes.some(
      (r) => r.method !== 'ALL' && r.path !== '/*' && pathMatches(r.path, c.req.path),
    );
    return known
      ? maiaError(c, 405, 'Method Not Allowed', 'http_error')
      : maiaError(c, 404, 'Not Found', 'http_error');
  });
  app.onError(onMaiaError);
  return app;
}

function pathMatches(pattern: string, path: string): boolean {
  const re = new RegExp(`^${pattern.replace(/\/\*$/, '').replace(/:[^/]+/g, '[^/]+')}/?$`);
  return re.test(path.replace(/^\/maia/, ''));
}
