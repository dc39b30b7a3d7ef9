import { Hono } from 'hono';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { type Endpoint, mount } from '../http/endpoint.ts';
import type { AppEnv } from '../http/env.ts';
import { auth } from '../middleware/auth.ts';
import { MAIA_DIALECT } from './dialect.ts';
import { maiaError, onMaiaError, unprocessable } from './errors.ts';
import { maiaFileEndpoints } from './files.ts';
import { maiaCors, maiaRateLimit, maiaRequestId } from './middleware.ts';
import { maiaSearchEndpoints } from './search.ts';
import { maiaServiceEndpoints } from './service.ts';
import { maiaStoreEndpoints } from './stores.ts';

/** Every endpoint of the MAIA dialect, paths relative to /maia: its router and /maia/openapi.json come from this. */
export const MAIA_ENDPOINTS: readonly Endpoint[] = [
  ...maiaServiceEndpoints(() => MAIA_ENDPOINTS),
  ...maiaStoreEndpoints,
  ...maiaFileEndpoints,
  ...maiaSearchEndpoints,
];

/**
 * The MAIA VectorDB dialect, mounted at /maia (MAIA_API_BASE=http://host/maia): its paths, shapes,
 * status codes and error envelope, over the same data as the OpenAI mount. See docs/MAIA.md.
 */
export function maiaApp(maxJsonBytes: number): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use(maiaRequestId());
  app.use(maiaCors());
  app.use(maiaRateLimit());
  // Starlette's answer for a method a path does not take (with the Allow header Starlette computes).
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) => {
        c.header('Allow', methods.join(', '));
        return maiaError(c, 405, 'Method Not Allowed', 'http_error');
      },
    }),
  );
  app.use('/v1/*', auth());
  app.use('/v1/*', async (c, next) => {
    // Ids go to Postgres as text, which cannot hold NUL: FastAPI would refuse such an id as invalid too.
    if (c.req.path.includes('\u0000') || /%00/i.test(c.req.path))
      throw unprocessable('query', [{ path: ['path'], message: 'NUL characters are not allowed' }]);
    await next();
  });
  mount(app, MAIA_ENDPOINTS, { maxJsonBytes, dialect: MAIA_DIALECT });
  // Starlette's answer for a path it does not know (a mounted app's notFound is not its parent's).
  app.all('*', (c) => maiaError(c, 404, 'Not Found', 'http_error'));
  app.onError(onMaiaError);
  return app;
}
