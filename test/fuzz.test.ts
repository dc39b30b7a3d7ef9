import { connect } from 'node:net';
import { join } from 'node:path';
import { runDoctor } from '@vsdb/core/doctor';
import fc from 'fast-check';
import type { Hono } from 'hono';
import { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppEnv, createApp } from '../packages/functions/src/app.ts';
import { startTestApp, type TestApp } from './app.ts';
import {
  attributes,
  buildMultipart,
  CONTENT_TYPES,
  chunkingStrategy,
  filter,
  jsonValue,
  maybe,
  multipartCase,
  nastyKey,
  nastyString,
  pathSegment,
  queryString,
  weirdNumber,
} from './fuzz-arbitraries.ts';
import { emptied } from './helpers.ts';

// Every route's body, query and path, and multipart uploads, under property-based fuzzing: whatever comes
// in, the answer is never a 5xx, always the OpenAI error envelope when it is an error, and never a hang: a
// request that is never answered fails its test by the test's timeout, which names the requests still waiting.

const KEY = 'sk-fuzz';
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
/** Requests sent and not yet answered, named in the failure of a test that timed out waiting for them. */
const waiting = new Set<string>();

let app: TestApp;
let h: Hono<AppEnv>;
let ids: Record<string, string>;
const counts: Record<string, number> = {};
/** Answers below 400 per family: the fuzz must also get past validation, not only bounce off it. */
const accepted: Record<string, number> = {};

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: KEY, MAX_FILE_SIZE_BYTES: String(1024 * 1024) });
  h = createApp(app.deps);
  const client = app.client(KEY);
  const store = await client.vectorStores.create({ name: 'fuzz', metadata: { team: 'core' } });
  const file = await client.files.create({
    file: await toFile(Buffer.from('Fuzzing finds what tests forget. The zebra sleeps at noon.'), 'f.txt'),
    purpose: 'assistants',
  });
  await client.vectorStores.files.createAndPoll(store.id, {
    file_id: file.id,
    attributes: { team: 'core', year: 2026 },
  });
  const batch = await client.vectorStores.fileBatches.create(store.id, { file_ids: [file.id] });
  const upload = (await (
    await h.request('/v1/uploads', {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ filename: 'u.txt', purpose: 'assistants', bytes: 10, mime_type: 'text/plain' }),
    })
  ).json()) as { id?: string };
  ids = {
    vector_store_id: store.id,
    file_id: file.id,
    batch_id: batch.id,
    upload_id: upload.id ?? 'upload_missing',
  };
});

beforeEach(({ onTestFailed }) => {
  waiting.clear();
  onTestFailed(() => {
    if (waiting.size > 0) console.error(`fuzz: still waiting for an answer to: ${[...waiting].join(' | ')}`);
  });
});

afterAll(async () => {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const each = Object.entries(counts).map(([k, v]) => `${k} ${v} (${accepted[k] ?? 0} accepted)`);
  console.log(`fuzz: ${total} inputs: ${each.join(', ')}`);
  await app?.close();
});

/** Sends one request in process; fails on a 5xx, a hang, or an error that is not the OpenAI envelope. */
async function send(
  family: string,
  method: string,
  path: string,
  opts: { body?: BodyInit; type?: string; headers?: Record<string, string> } = {},
): Promise<Response | undefined> {
  const headers: Record<string, string> = { authorization: `Bearer ${KEY}`, ...opts.headers };
  if (opts.type !== undefined) headers['content-type'] = opts.type;
  let req: Request;
  try {
    req = new Request(`http://localhost${path}`, { method, headers, body: opts.body });
  } catch {
    return undefined; // not a request any client could send
  }
  counts[family] = (counts[family] ?? 0) + 1;
  const what = `${method} ${path}`;
  waiting.add(what);
  const res = await h.fetch(req);
  const text = await res.text();
  waiting.delete(what);
  await expectSane(res.status, res.headers.get('content-type'), text, what);
  if (res.status < 400) accepted[family] = (accepted[family] ?? 0) + 1;
  return res;
}

async function expectSane(status: number, type: string | null, text: string, what: string) {
  if (status >= 500) throw new Error(`${what} answered ${status}: ${text.slice(0, 300)}`);
  if (status < 400) return;
  expect(type, what).toMatch(/^application\/json/);
  let body: { error?: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${what} answered ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  expect(Object.keys(body), what).toEqual(['error']);
  expect(typeof body.error?.message === 'string' && body.error.message.length > 0, what).toBe(true);
  expect(typeof body.error?.type, what).toBe('string');
  if (/^\S+ \/maia\//.test(what)) {
    // MAIA's envelope: code is the HTTP status as an integer, and there is no param.
    expect(body.error?.code, what).toBe(status);
    return;
  }
  expect(typeof body.error?.code, what).toBe('string');
  expect(body.error?.param === null || typeof body.error?.param === 'string', what).toBe(true);
}

interface Route {
  method: string;
  path: string;
}

/** Every route the app serves (the registry itself, so a new route is fuzzed without being listed here). */
function routes(): Route[] {
  const seen = new Set<string>();
  return h.routes
    .filter((r) => r.method !== 'ALL' && !r.path.includes('*'))
    .filter((r) => {
      const k = `${r.method} ${r.path}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    })
    .map((r) => ({ method: r.method, path: r.path }));
}

const fill = (path: string, segment: (name: string) => string) =>
  path.replace(/:([a-z_]+)/g, (_, name: string) => segment(name));
const withIds = (path: string) => fill(path, (name) => ids[name] ?? 'x');
const json = (v: unknown) => JSON.stringify(v) ?? 'null';

describe('fuzzing every route', () => {
  it('lists the routes it fuzzes', () => {
    const all = routes().map((r) => `${r.method} ${r.path}`);
    for (const r of [
      'POST /v1/vector_stores',
      'POST /v1/vector_stores/:vector_store_id/search',
      'POST /v1/vector_stores/:vector_store_id/files',
      'POST /v1/files',
      'GET /v1/vector_stores/:vector_store_id/file_batches/:batch_id/files',
      'POST /v1/embeddings',
    ]) {
      expect(all).toContain(r);
    }
  });

  it('JSON bodies of any shape on every POST route', async () => {
    const posts = routes().filter((r) => r.method === 'POST');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...posts), jsonValue, async (r, body) => {
        await send('json-any', 'POST', withIds(r.path), { body: json(body), type: 'application/json' });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('bodies shaped like each request, with hostile values', async () => {
    const vs = () => `/v1/vector_stores/${ids.vector_store_id}`;
    const search = fc.record(
      {
        query: maybe(fc.oneof(nastyString, fc.array(nastyString, { maxLength: 3 }))),
        filters: maybe(filter),
        filter: maybe(
          fc.dictionary(nastyKey, fc.oneof(nastyString, weirdNumber, fc.boolean()), { maxKeys: 3 }),
        ),
        max_num_results: maybe(weirdNumber),
        max_results: maybe(weirdNumber),
        ranking_options: maybe(
          fc.record({
            ranker: fc.constantFrom('auto', 'none', 'default-2024-11-15', 'x'),
            score_threshold: weirdNumber,
            hybrid_search: fc.record({ embedding_weight: weirdNumber, text_weight: weirdNumber }),
          }),
        ),
        rewrite_query: maybe(fc.boolean()),
        score_threshold: maybe(weirdNumber),
        search_mode: maybe(fc.constantFrom('vector', 'keyword', 'hybrid')),
        query_embedding: maybe(fc.array(weirdNumber, { minLength: 0, maxLength: 80 })),
        page: maybe(fc.oneof(nastyString, fc.constantFrom('b2Zmc2V0Ojk5OTk5OQ', 'b2Zmc2V0OjE'))),
      },
      { requiredKeys: [] },
    );
    const cases: fc.Arbitrary<[string, unknown]>[] = [
      fc
        .record(
          {
            name: maybe(nastyString),
            description: maybe(nastyString),
            metadata: maybe(fc.dictionary(nastyKey, nastyString, { maxKeys: 5 })),
            file_ids: maybe(fc.array(fc.oneof(nastyString, fc.constant(ids.file_id)), { maxLength: 3 })),
            chunking_strategy: maybe(chunkingStrategy),
            expires_after: maybe(
              fc.record({ anchor: fc.constantFrom('last_active_at', 'x'), days: weirdNumber }),
            ),
          },
          { requiredKeys: [] },
        )
        .map((b) => ['/v1/vector_stores', b]),
      fc
        .record(
          {
            name: maybe(nastyString),
            metadata: maybe(fc.dictionary(nastyKey, nastyString, { maxKeys: 5 })),
            expires_after: maybe(fc.constant(null)),
          },
          { requiredKeys: [] },
        )
        .map((b) => [vs(), b]),
      fc
        .record(
          {
            file_id: maybe(fc.oneof(nastyString, fc.constant(ids.file_id))),
            attributes: maybe(attributes),
            chunking_strategy: maybe(chunkingStrategy),
          },
          { requiredKeys: [] },
        )
        .map((b) => [`${vs()}/files`, b]),
      fc.record({ attributes: maybe(attributes) }).map((b) => [`${vs()}/files/${ids.file_id}`, b]),
      fc
        .record(
          {
            file_ids: maybe(fc.array(fc.oneof(nastyString, fc.constant(ids.file_id)), { maxLength: 3 })),
            files: maybe(
              fc.array(fc.record({ file_id: nastyString, attributes: attributes }), { maxLength: 2 }),
            ),
            attributes: maybe(attributes),
            chunking_strategy: maybe(chunkingStrategy),
          },
          { requiredKeys: [] },
        )
        .map((b) => [`${vs()}/file_batches`, b]),
      search.map((b) => [`${vs()}/search`, b]),
      search.map((b) => [
        '/v1/search',
        { ...b, vector_store_ids: [ids.vector_store_id, ...(b.query === undefined ? [] : ['vs_other'])] },
      ]),
      fc
        .record(
          {
            input: maybe(
              fc.oneof(nastyString, fc.array(nastyString, { maxLength: 3 }), fc.array(fc.array(weirdNumber))),
            ),
            model: maybe(nastyString),
            dimensions: maybe(weirdNumber),
            encoding_format: maybe(fc.constantFrom('float', 'base64', 'x')),
            user: maybe(nastyString),
          },
          { requiredKeys: [] },
        )
        .map((b) => ['/v1/embeddings', b]),
      fc
        .record(
          {
            filename: maybe(nastyString),
            purpose: maybe(fc.constantFrom('assistants', 'batch', 'x')),
            bytes: maybe(weirdNumber),
            mime_type: maybe(fc.oneof(nastyString, fc.constant('text/plain'))),
          },
          { requiredKeys: [] },
        )
        .map((b) => ['/v1/uploads', b]),
      fc
        .record(
          { part_ids: maybe(fc.array(nastyString, { maxLength: 3 })), md5: maybe(nastyString) },
          { requiredKeys: [] },
        )
        .map((b) => [`/v1/uploads/${ids.upload_id}/complete`, b]),
    ];
    await fc.assert(
      fc.asyncProperty(fc.oneof(...cases), async ([path, body]) => {
        await send('json-shaped', 'POST', path, { body: json(body), type: 'application/json' });
      }),
      { numRuns: RUNS * 4 },
    );
    expect(accepted['json-shaped']).toBeGreaterThan(RUNS / 5);
  });

  it('raw bodies: broken JSON, invalid UTF-8, wrong content types', async () => {
    const posts = routes().filter((r) => r.method === 'POST');
    const raw = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc
        .constantFrom(
          '{',
          '{"name":',
          '[1,2',
          '{"a":1}}',
          'null',
          '""',
          '"\\ud800"',
          '{"a":"\\u0000"}',
          '\ufeff{}',
          '{} {}',
          '1e99999',
          '{"__proto__":{"polluted":1}}',
        )
        .map((s) => new TextEncoder().encode(s)),
      fc.constant(new Uint8Array([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
      fc
        .constantFrom(
          `${'['.repeat(50_000)}${']'.repeat(50_000)}`,
          `{"metadata":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`,
          `{"filters":${'{"type":"and","filters":['.repeat(3000)}${']}'.repeat(3000)},"query":"x"}`,
        )
        .map((s) => new TextEncoder().encode(s)),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...posts),
        raw,
        fc.constantFrom(...CONTENT_TYPES),
        async (r, body, type) => {
          await send('raw-body', 'POST', withIds(r.path), { body, type });
        },
      ),
      { numRuns: RUNS * 2 },
    );
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  it('path ids: invalid UTF-8, NUL, traversal, injection, on every route with a parameter', async () => {
    const withParams = routes().filter((r) => r.path.includes(':'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...withParams),
        fc.array(fc.oneof(pathSegment, fc.constant(null)), { minLength: 3, maxLength: 3 }),
        async (r, segments) => {
          const names = [...r.path.matchAll(/:([a-z_]+)/g)].map((m) => m[1]!);
          // At least one id is fuzzed: a DELETE with every id real would remove the fixtures.
          if (segments.slice(0, names.length).every((s) => s === null))
            segments[names.length - 1] = 'vs_fuzzed';
          let i = 0;
          const path = fill(r.path, (name) => segments[i++] ?? ids[name] ?? 'x');
          await send(
            'path',
            r.method,
            path,
            r.method === 'POST' ? { body: '{}', type: 'application/json' } : {},
          );
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('query strings on every GET route', async () => {
    const gets = routes().filter((r) => r.method === 'GET');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...gets), queryString, async (r, q) => {
        await send('query', 'GET', `${withIds(r.path)}?${q}`);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('multipart uploads: broken boundaries, missing parts, huge fields, NUL bytes, invalid UTF-8', async () => {
    const targets = [
      '/v1/files',
      `/v1/vector_stores/${ids.vector_store_id}/files`,
      `/v1/uploads/${ids.upload_id}/parts`,
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), multipartCase, async (path, c) => {
        const { body, contentType } = buildMultipart(c);
        await send('multipart', 'POST', path, { body: new Uint8Array(body), type: contentType });
      }),
      { numRuns: RUNS * 3 },
    );
    expect(accepted.multipart).toBeGreaterThan(0);
  });

  it('raw HTTP on the real port: odd request lines and headers never get a 5xx or hang', async () => {
    const { port } = new URL(app.url);
    const line = fc.oneof(
      fc.constantFrom(
        'GET /v1/vector_stores/%00 HTTP/1.1',
        'GET /v1/vector_stores/%ff%fe HTTP/1.1',
        'GET //v1//vector_stores HTTP/1.1',
        'GET /v1/../v1/vector_stores HTTP/1.1',
        'GET /v1/vector_stores?limit=%zz HTTP/1.1',
        'GET http://evil.example/v1/vector_stores HTTP/1.1',
        'OPTIONS * HTTP/1.1',
        'BREW /v1/vector_stores HTTP/1.1',
        'POST /v1/vector_stores HTTP/1.0',
        'DELETE /v1/vector_stores HTTP/1.1',
        'PATCH /v1/files HTTP/1.1',
      ),
      pathSegment.map((s) => `GET /v1/files/${s} HTTP/1.1`),
    );
    const header = fc.constantFrom(
      `Authorization: Bearer ${KEY}`,
      'Authorization: Bearer',
      'Authorization: Basic Zm9vOmJhcg==',
      `X-API-Key: ${KEY}\u0000`,
      `X-API-Key: ${'k'.repeat(5000)}`,
      'Content-Type: application/json',
      'Content-Length: 5',
      'Transfer-Encoding: chunked',
      'X-Request-Id: \u00ff\u00fe',
      'Origin: null',
      'Host: ',
    );
    await fc.assert(
      fc.asyncProperty(line, fc.array(header, { maxLength: 4 }), async (l, hs) => {
        counts['raw-http'] = (counts['raw-http'] ?? 0) + 1;
        const head = [l, 'Host: 127.0.0.1', 'Connection: close', ...hs].join('\r\n');
        const answer = await rawRequest(Number(port), Buffer.from(`${head}\r\n\r\n{}`, 'latin1'));
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);
        // No answer at all is allowed only as the parser's refusal of a malformed request (a closed socket).
        if (status) expect(status, `${l} -> ${answer.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: RUNS },
    );
  });

  it('leaves the data consistent', async () => {
    // A cut-off upload's temporary file goes once the server sees the socket close.
    await emptied(join(app.config.DATA_DIR, 'files', '.tmp'));
    const report = await runDoctor({
      sql: app.db.sql,
      blobRoot: join(app.config.DATA_DIR, 'files'),
      minAgeSeconds: 0,
    });
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
  });
});

function rawRequest(port: number, bytes: Buffer): Promise<string> {
  const what = `raw ${bytes.toString('latin1').slice(0, 100)}`;
  waiting.add(what);
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let out = '';
    socket.on('data', (d) => {
      out += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      waiting.delete(what);
      resolve(out);
    });
    socket.end(bytes);
  });
}
