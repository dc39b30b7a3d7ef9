import { checkDatabase } from '@vsdb/core/db/health';
import { MaiaEmbedRequest, MaiaEmbedResponse, MaiaHealth } from '@vsdb/core/maia/schemas';
import { metrics } from '@vsdb/core/metrics';
import { VERSION } from '@vsdb/core/version';
import { type Endpoint, endpoint } from '../http/endpoint.ts';
import { openApiEndpoint } from '../openapi/document.ts';
import { MAIA_FRAME } from './dialect.ts';

const tag = 'health';

/**
 * The routes MAIA serves without a key (/health, /metrics, /openapi.json, /docs, /redoc), and its
 * /v1/embeddings. `all` is every MAIA endpoint, these included, for the OpenAPI document.
 */
export function maiaServiceEndpoints(all: () => readonly Endpoint[]): Endpoint[] {
  return [
    endpoint({
      method: 'get',
      path: '/health',
      operationId: 'health_health_get',
      summary: 'Service health check',
      tag,
      public: true,
      response: MaiaHealth,
      handler: async (c): Promise<MaiaHealth> => {
        const { sql, config } = c.get('deps');
        const ok = (await checkDatabase(sql)).status === 'ok';
        c.status(ok ? 200 : 503);
        return {
          status: ok ? 'ok' : 'degraded',
          version: VERSION,
          database: ok
            ? { status: 'ok', detail: null }
            : { status: 'error', detail: 'Database connection failed' },
          openai_api_key_set: Boolean(config.OPENAI_API_KEY),
        };
      },
    }),
    endpoint({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics (text)',
      tag,
      public: true,
      response: 'text',
      handler: (c) =>
        c.text(metrics.prometheus(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
    }),
    openApiEndpoint(all, tag, MAIA_FRAME),
    endpoint({
      method: 'get',
      path: '/docs',
      summary: 'Swagger UI (a browser page)',
      tag,
      public: true,
      response: 'html',
      handler: (c) => c.html(DOCS_HTML),
    }),
    endpoint({
      method: 'get',
      path: '/redoc',
      summary: 'ReDoc (a browser page)',
      tag,
      public: true,
      response: 'html',
      handler: (c) => c.html(REDOC_HTML),
    }),
    endpoint({
      method: 'post',
      path: '/v1/embeddings',
      operationId: 'create_embeddings_v1_embeddings_post',
      summary: 'Create Embeddings',
      tag: 'embeddings',
      body: MaiaEmbedRequest,
      response: MaiaEmbedResponse,
      handler: async (c, { body }) => {
        const { embedder, config } = c.get('deps');
        const result = await embedder.embed(body.input, { deadlineMs: config.SEARCH_EMBEDDING_TIMEOUT_MS });
        return { data: result.embeddings };
      },
    }),
  ];
}

// As FastAPI's pages, from a CDN (docs/MAIA.md, "Knowingly different").
const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>MAIA VectorDB - Swagger UI</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css" /></head>
<body><div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({ url: '/maia/openapi.json', dom_id: '#swagger-ui' });</script>
</body></html>
`;

const REDOC_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>MAIA VectorDB - ReDoc</title></head>
<body><redoc spec-url="/maia/openapi.json"></redoc>
<script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"></script>
</body></html>
`;
