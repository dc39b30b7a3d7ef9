import { fileURLToPath } from 'node:url';
import { ApiError } from '@vsdb/core/errors';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { assetDir, assetStore } from '../http/static.ts';

/** packages/console's committed build (see docs/CONSOLE.md); beside the Lambda bundle as console/. */
export const consoleAssets = assetStore(() =>
  assetDir('console', () => fileURLToPath(new URL('../../../console/dist/', import.meta.url))),
);

/**
 * The web console: one page (hash routes inside it) and its content-hashed assets, public like /docs. The
 * page asks for an API key and sends it as a Bearer header on its /v1 calls; no key reaches this route.
 */
export const consoleRoutes = new Hono<AppEnv>()
  .get('/console', (c) => consoleAssets.send(c, 'index.html', false)!)
  .get('/console/', (c) => c.redirect('/console', 301))
  .get('/console/assets/*', (c) => {
    const name = c.req.path.slice('/console/'.length);
    const res = consoleAssets.send(c, name, true);
    if (!res) throw new ApiError('not_found', `No console asset named ${name}.`);
    return res;
  });
