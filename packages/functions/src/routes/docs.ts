import { ApiError } from '@vsdb/core/errors';
import { type Endpoint, endpoint } from '../http/endpoint.ts';
import { assetDir, assetStore, packageDir } from '../http/static.ts';
import { openApiEndpoint } from '../openapi/document.ts';
import { consoleAssets } from './console.ts';

/** Swagger UI's two files (and its package.json, for the version in their URLs); beside the Lambda bundle as swagger-ui/. */
const swagger = assetStore(
  () => assetDir('swagger-ui', packageDir('swagger-ui-dist')),
  ['swagger-ui-bundle.js', 'swagger-ui.css', 'package.json'],
);

/**
 * GET /openapi.json (the document of `all`, these included) and the /docs reference page; both public, like
 * /health. The page is Swagger UI served from the installed swagger-ui-dist (no CDN, so it works offline),
 * started by the console build's docs script; its asset URLs carry the package version, so they are cached
 * as immutable.
 */
export function docsEndpoints(all: () => readonly Endpoint[]): Endpoint[] {
  return [
    openApiEndpoint(all, 'Health'),
    endpoint({
      method: 'get',
      path: '/docs',
      summary: 'Interactive API reference',
      tag: 'Health',
      public: true,
      response: 'html',
      handler: (c) => consoleAssets.send(c, 'docs.html', false)!,
    }),
    endpoint({
      method: 'get',
      path: '/docs/assets/{dir}/{name}',
      summary: "The reference page's assets",
      tag: 'Health',
      public: true,
      response: 'text',
      handler: (c, { params: { dir, name } }) => {
        const version = (JSON.parse(swagger.text('package.json') ?? '{}') as { version?: string }).version;
        const res = dir === `swagger-ui-${version}` && name !== 'package.json' && swagger.send(c, name, true);
        if (!res) throw new ApiError('not_found', `No documentation asset named ${dir}/${name}.`);
        return res;
      },
    }),
  ];
}
