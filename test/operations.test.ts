import { createKey } from '@vsdb/core/auth/keys';
import { createLogger } from '@vsdb/core/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';

let app: TestApp;
const lines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({
    API_KEYS: 'sk-ops-secret-key',
    CORS_ORIGINS: 'https://allowed.example',
    RATE_LIMIT_PER_MINUTE: '5',
  });
  // The same deps with a logger whose lines the test reads.
  app.deps.logger = createLogger({ level: 'info', write: (l) => lines.push(l) });
});
afterAll(() => app?.close());

const inProcess = () => createApp(app.deps);

describe('request ids and logs', () => {
  it('echoes a sane incoming id, replaces a bad one, and logs one line per request without secrets', async () => {
    const h = inProcess();
    const res = await h.request('/v1/vector_stores', {
      headers: { authorization: 'Bearer sk-ops-secret-key', 'x-request-id': 'abc-123' },
    });
    expect(res.headers.get('x-request-id')).toBe('abc-123');
    const bad = await h.request('/health', { headers: { 'x-request-id': 'evil id; with spaces' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Kept beyond Hono's own test (word characters, - and =): trace ids with . and :, up to 128 characters.
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1'.replace(';', ':');
    expect(
      (await h.request('/health', { headers: { 'x-request-id': trace } })).headers.get('x-request-id'),
    ).toBe(trace);
    const long = await h.request('/health', { headers: { 'x-request-id': 'x'.repeat(129) } });
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const line = lines.find((l) => l.includes('[request_id=abc-123]'));
    expect(line).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d INFO \[http\] GET \/v1\/vector_stores 200 [\d.]+ms \[request_id=abc-123\] \[project=proj_default\]$/,
    );
    expect(lines.join('\n')).not.toContain('sk-ops-secret-key');
  });

  it('puts the request id in 5xx bodies', async () => {
    const h = inProcess();
    h.get('/boom', () => {
      throw new Error('internal detail');
    });
    const res = await h.request('/boom', { headers: { 'x-request-id': 'req-500' } });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { message: string; type: string } };
    expect(body.error.message).toContain('req-500');
    expect(body.error.message).not.toContain('internal detail');
    expect(lines.some((l) => l.includes('ERROR') && l.includes('req-500'))).toBe(true);
  });

  it('sends security headers', async () => {
    const res = await inProcess().request('/health');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

describe('CORS', () => {
  it('allows listed origins and answers their preflight', async () => {
    const pre = await inProcess().request('/v1/vector_stores', {
      method: 'OPTIONS',
      headers: { origin: 'https://allowed.example', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://allowed.example');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });

  it('denies others', async () => {
    const res = await inProcess().request('/health', { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('rate limits per API key', () => {
  it('limits one key with a 429 and Retry-After while another key goes on', async () => {
    const h = inProcess();
    const other = (await createKey(app.db.sql, 'other')).key;
    const get = (key: string) =>
      h.request('/v1/vector_stores', { headers: { authorization: `Bearer ${key}` } });
    // Earlier tests used some of this minute already; spend the rest.
    let limited: Response | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const r = await get('sk-ops-secret-key');
      if (r.status === 429) limited = r;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited?.json()).toMatchObject({
      error: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    });
    expect((await get(other)).status).toBe(200);
  });
});

describe('metrics and OpenAPI', () => {
  it('serves Prometheus text behind a key', async () => {
    const h = inProcess();
    expect((await h.request('/metrics')).status).toBe(401);
    const other = (await createKey(app.db.sql, 'metrics')).key;
    const res = await h.request('/metrics', { headers: { authorization: `Bearer ${other}` } });
    const text = await res.text();
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toMatch(/http_request_duration_seconds_bucket\{le="0.005",route="\/health"\} \d+/);
  });

  it('documents every registered route in /openapi.json and serves /docs', async () => {
    const h = inProcess();
    const doc = (await (await h.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    // Each mount documents its own routes: MAIA's dialect in /maia/openapi.json, relative to /maia.
    const maia = (await (await h.request('/maia/openapi.json')).json()) as typeof doc;
    const routes = h.routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*'));
    const missing = routes
      .map((r) => ({ method: r.method.toLowerCase(), path: r.path.replace(/:(\w+)/g, '{$1}') }))
      .filter((r) => {
        if (r.path === '/boom') return false;
        const [paths, path] = r.path.startsWith('/maia/')
          ? [maia.paths, r.path.slice('/maia'.length)]
          : [doc.paths, r.path];
        return !paths[path]?.[r.method];
      });
    expect(missing).toEqual([]);
    const search = doc.paths['/v1/vector_stores/{vector_store_id}/search']!.post as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
    };
    expect(Object.keys(search.requestBody.content['application/json']!.schema.properties)).toContain(
      'filters',
    );
    const html = await h.request('/docs');
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('/openapi.json');
  });
});
