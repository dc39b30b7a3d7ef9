import { ApiError } from '@vsdb/core/errors';
import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { assetDir, assetStore, packageDir } from '../http/static.ts';
import { openApiDocument } from '../openapi/document.ts';
import { consoleAssets } from './console.ts';

let cached: Record<string, unknown> | undefined;

/** Swagger UI's two files (and its package.json, for the version in their URLs); beside the Lambda bundle as swagger-ui/. */
const swagger = assetStore(
  () => assetDir('swagger-ui', packageDir('swagger-ui-dist')),
  ['swagger-ui-bundle.js', 'swagger-ui.css', 'package.json'],
);

/**
 * GET /openapi.json and the /docs reference page; both public, like /health. The page is Swagger UI served
 * from the installed swagger-ui-dist (no CDN, so it works offline), started by the console build's docs
 * script; its asset URLs carry the package version, so they are cached as immutable.
 */
export const docsRoutes = new Hono<AppEnv>()
  .get('/openapi.json', (c) => {
    cached ??= openApiDocument();
    return c.json(cached);
  })
  .get('/docs', (c) => consoleAssets.send(c, 'docs.html', false)!)
  .get('/docs/assets/:dir/:name', (c) => {
    const { dir, name } = c.req.param();
    const version = (JSON.parse(swagger.text('package.json') ?? '{}') as { version?: string }).version;
    const res = dir === `swagger-ui-${version}` && name !== 'package.json' && swagger.send(c, name, true);
    if (!res) throw new ApiError('not_found', `No documentation asset named ${dir}/${name}.`);
    return res;
  });
