import { fileURLToPath } from 'node:url';
import { ApiError } from '@vsdb/core/errors';
import { Hono } from 'hono';
import { endpoint } from '../http/endpoint.ts';
import type { AppEnv } from '../http/env.ts';
import { assetDir, assetStore } from '../http/static.ts';

/** packages/console's committed build (see docs/CONSOLE.md); beside the Lambda bundle as console/. */
export const consoleAssets = assetStore(() =>
  assetDir('console', () => fileURLToPath(new URL('../../../console/dist/', import.meta.url))),
);

/**
 * The web console: one page (hash routes inside it) and its content-hashed assets, public like /docs. The
 * page asks for an API key and sends it as a Bearer header on its /v1 calls; no key reaches this route.
 */
export const consoleEndpoints = [
  endpoint({
    method: 'get',
    path: '/console',
    summary: 'Web console (a browser page)',
    tag: 'Health',
    public: true,
    response: 'html',
    handler: (c) => consoleAssets.send(c, 'index.html', false)!,
  }),
  endpoint({
    method: 'get',
    path: '/console/',
    summary: 'Redirects to /console',
    tag: 'Health',
    public: true,
    response: 'text',
    handler: (c) => c.redirect('/console', 301),
  }),
];

/** The console's static files: not part of the API, so not in /openapi.json. */
export const consoleAssetRoutes = new Hono<AppEnv>().get('/console/assets/*', (c) => {
  const name = c.req.path.slice('/console/'.length);
  const res = consoleAssets.send(c, name, true);
  if (!res) throw new ApiError('not_found', `No console asset named ${name}.`);
  return res;
});
