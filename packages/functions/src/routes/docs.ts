import { Hono } from 'hono';
import type { AppEnv } from '../app.ts';
import { DOCS_HTML, openApiDocument } from '../openapi/document.ts';

let cached: Record<string, unknown> | undefined;

/** GET /openapi.json and the /docs reference page; both public, like /health. */
export const docsRoutes = new Hono<AppEnv>()
  .get('/openapi.json', (c) => {
    cached ??= openApiDocument();
    return c.json(cached);
  })
  .get('/docs', (c) => c.html(DOCS_HTML));
