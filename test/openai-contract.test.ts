import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';

// Every OpenAI operation we serve, success and error, validated against the response schemas of
// openai/openai-openapi (checked at commit f85dbe2). The spec is OpenAI's, not ours, so it is not kept in
// this repository: OPENAI_SPEC_PATH names a local copy of its openapi.json (see docs/API.md); without it
// this file is skipped.
type Json = Record<string, unknown>;
interface Spec {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Json }> }> }>
  >;
  components: Json;
}
const SPEC_PATH = process.env.OPENAI_SPEC_PATH;
const spec: Spec = SPEC_PATH
  ? (JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Spec)
  : { paths: {}, components: {} };
const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
// A few schemas still carry OpenAPI 3.0's `nullable`; say it in JSON Schema (as 3.1 does) for ajv.
function nullable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(nullable);
  if (!v || typeof v !== 'object') return v;
  const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, nullable(x)])) as Json;
  const all = o.allOf as Json[] | undefined;
  if (all?.some((s) => s.nullable === true)) {
    const rest = all.filter((s) => s.nullable !== true);
    delete o.allOf;
    return { ...o, anyOf: [rest.length === 1 ? rest[0] : { allOf: rest }, { type: 'null' }] };
  }
  if (o.nullable === true && typeof o.type === 'string') {
    delete o.nullable;
    return { ...o, type: [o.type, 'null'] };
  }
  return o;
}
ajv.addSchema({ $id: 'openai', components: nullable(spec.components) });
const resolve = (schema: unknown): unknown =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"openai#/components/'));
const validators = new Map<string, ReturnType<typeof ajv.compile>>();
const checked: string[] = [];

/** Asserts `body` matches the spec's schema for this operation's status (errors: ErrorResponse). */
function conforms(method: string, path: string, status: number, body: unknown) {
  const op = spec.paths[path]?.[method];
  expect(op, `${method} ${path} is in the spec`).toBeDefined();
  const key = `${method} ${path} ${status < 400 ? status : 'error'}`;
  let validate = validators.get(key);
  if (!validate) {
    const schema =
      status < 400
        ? op!.responses[String(status)]?.content?.['application/json']?.schema
        : { $ref: '#/components/schemas/ErrorResponse' };
    expect(schema, `${key} has a schema`).toBeDefined();
    validate = ajv.compile(resolve(schema) as Json);
    validators.set(key, validate);
  }
  const ok = validate(body);
  expect(ok ? [] : validate.errors, `${key}: ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
  checked.push(key);
}

let app: TestApp;
const KEY = 'sk-contract';
async function call(method: string, specPath: string, url: string, body?: unknown, form?: FormData) {
  const headers: Record<string, string> = { authorization: `Bearer ${KEY}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${app.url}/v1${url}`, {
    method: method.toUpperCase(),
    headers,
    body: form ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const type = res.headers.get('content-type') ?? '';
  const json = type.includes('json') ? ((await res.json()) as Json) : await res.text();
  if (type.includes('json')) conforms(method, specPath, res.status, json);
  return { status: res.status, json: json as Json & { data: Json[] } };
}
const fileForm = (name: string, text: string, purpose = 'assistants') => {
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file', new Blob([text]), name);
  return form;
};

beforeAll(async () => {
  app = await startTestApp({ API_KEYS: KEY });
});
afterAll(() => app?.close());

describe.skipIf(!SPEC_PATH)('OpenAI responses validate against the OpenAPI spec', () => {
  it('vector stores: create, list (also empty), retrieve, update, delete, and their errors', async () => {
    const empty = await call('get', '/vector_stores', '/vector_stores');
    expect(empty.json.data).toEqual([]);
    const made = await call('post', '/vector_stores', '/vector_stores', {
      name: 'contract',
      metadata: { a: 'b' },
    });
    expect(made.status).toBe(200);
    const unnamed = await call('post', '/vector_stores', '/vector_stores', {});
    expect(unnamed.json.name).toBe('');
    const id = made.json.id as string;
    await call('get', '/vector_stores', '/vector_stores?limit=1');
    expect((await call('get', '/vector_stores', '/vector_stores?limit=101')).status).toBe(400);
    await call('get', '/vector_stores/{vector_store_id}', `/vector_stores/${id}`);
    const updated = await call('post', '/vector_stores/{vector_store_id}', `/vector_stores/${id}`, {
      expires_after: { anchor: 'last_active_at', days: 3 },
    });
    expect(updated.json.expires_after).toEqual({ anchor: 'last_active_at', days: 3 });
    expect(
      (await call('post', '/vector_stores', '/vector_stores', { name: 'x', colour: 'red' })).json,
    ).toMatchObject({
      error: { message: 'Unrecognized request argument supplied: colour', param: 'colour' },
    });
    expect((await call('post', '/vector_stores', '/vector_stores', { name: 5 })).status).toBe(400);
    expect((await call('get', '/vector_stores/{vector_store_id}', '/vector_stores/vs_nope')).status).toBe(
      404,
    );
    expect(
      (await call('post', '/vector_stores/{vector_store_id}', '/vector_stores/vs_nope', {})).status,
    ).toBe(404);
    await call('delete', '/vector_stores/{vector_store_id}', `/vector_stores/${unnamed.json.id}`);
    expect((await call('delete', '/vector_stores/{vector_store_id}', '/vector_stores/vs_nope')).status).toBe(
      404,
    );
  });

  it('files and uploads, and their errors', async () => {
    const file = await call('post', '/files', '/files', undefined, fileForm('a.txt', 'hello contract'));
    expect(file.json).not.toHaveProperty('expires_at');
    expect(file.json).not.toHaveProperty('status_details');
    await call('get', '/files', '/files');
    expect((await call('get', '/files', '/files?limit=0')).status).toBe(400);
    await call('get', '/files/{file_id}', `/files/${file.json.id}`);
    const content = await fetch(`${app.url}/v1/files/${file.json.id}/content`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(await content.text()).toBe('hello contract');
    checked.push('get /files/{file_id}/content 200');
    expect((await call('get', '/files/{file_id}', '/files/file-nope')).status).toBe(404);
    expect((await call('get', '/files/{file_id}/content', '/files/file-nope/content')).status).toBe(404);
    expect(
      (await call('post', '/files', '/files', undefined, fileForm('a.txt', 'x', 'nonsense'))).status,
    ).toBe(400);
    await call('delete', '/files/{file_id}', `/files/${file.json.id}`);
    expect((await call('delete', '/files/{file_id}', `/files/${file.json.id}`)).status).toBe(404);

    const upload = await call('post', '/uploads', '/uploads', {
      filename: 'u.txt',
      purpose: 'assistants',
      bytes: 5,
      mime_type: 'text/plain',
    });
    const part = new FormData();
    part.append('data', new Blob(['hello']), 'blob');
    const p = await call(
      'post',
      '/uploads/{upload_id}/parts',
      `/uploads/${upload.json.id}/parts`,
      undefined,
      part,
    );
    const done = await call('post', '/uploads/{upload_id}/complete', `/uploads/${upload.json.id}/complete`, {
      part_ids: [p.json.id],
    });
    expect(done.json.status).toBe('completed');
    const other = await call('post', '/uploads', '/uploads', {
      filename: 'v.txt',
      purpose: 'assistants',
      bytes: 1,
      mime_type: 'text/plain',
    });
    await call('post', '/uploads/{upload_id}/cancel', `/uploads/${other.json.id}/cancel`);
    expect(
      (
        await call('post', '/uploads', '/uploads', {
          filename: 'v.txt',
          purpose: 'assistants',
          bytes: 1,
          mime_type: 'text/plain',
          extra: 1,
        })
      ).status,
    ).toBe(400);
    expect((await call('post', '/uploads/{upload_id}/cancel', '/uploads/upload_nope/cancel')).status).toBe(
      404,
    );
    expect(
      (
        await call('post', '/uploads/{upload_id}/complete', `/uploads/${other.json.id}/complete`, {
          part_ids: [],
        })
      ).status,
    ).toBeGreaterThanOrEqual(400);
    expect(
      (await call('post', '/uploads/{upload_id}/parts', '/uploads/upload_nope/parts', undefined, part))
        .status,
    ).toBe(404);
  });

  it('vector store files, their content and search, and their errors', async () => {
    const store = (await call('post', '/vector_stores', '/vector_stores', { name: 'files' })).json
      .id as string;
    const file = await call(
      'post',
      '/files',
      '/files',
      undefined,
      fileForm('doc.txt', 'Postgres stores vectors for search.'),
    );
    const fileId = file.json.id as string;
    const base = `/vector_stores/${store}/files`;
    const empty = await call('get', '/vector_stores/{vector_store_id}/files', base);
    expect(empty.json).toMatchObject({ first_id: '', last_id: '', has_more: false });
    const vsf = await call('post', '/vector_stores/{vector_store_id}/files', base, {
      file_id: fileId,
      attributes: { n: 1 },
    });
    expect(vsf.json.status).toBe('completed');
    await call('get', '/vector_stores/{vector_store_id}/files', `${base}?filter=completed`);
    expect((await call('get', '/vector_stores/{vector_store_id}/files', `${base}?filter=nope`)).status).toBe(
      400,
    );
    await call('get', '/vector_stores/{vector_store_id}/files/{file_id}', `${base}/${fileId}`);
    await call('post', '/vector_stores/{vector_store_id}/files/{file_id}', `${base}/${fileId}`, {
      attributes: { n: 2 },
    });
    await call(
      'get',
      '/vector_stores/{vector_store_id}/files/{file_id}/content',
      `${base}/${fileId}/content`,
    );
    const update = '/vector_stores/{vector_store_id}/files/{file_id}';
    expect((await call('post', update, `${base}/file-nope`, { attributes: {} })).status).toBe(404);
    expect((await call('post', update, `${base}/${fileId}`, { attributes: {}, pin: true })).status).toBe(400);
    const hits = await call(
      'post',
      '/vector_stores/{vector_store_id}/search',
      `/vector_stores/${store}/search`,
      {
        query: 'vectors',
        ranking_options: { ranker: 'auto', score_threshold: 0 },
      },
    );
    expect(Object.keys(hits.json.data[0]!).sort()).toEqual([
      'attributes',
      'content',
      'file_id',
      'filename',
      'score',
    ]);
    const bare = (await call('post', '/vector_stores', '/vector_stores', { name: 'bare' })).json.id as string;
    const none = await call(
      'post',
      '/vector_stores/{vector_store_id}/search',
      `/vector_stores/${bare}/search`,
      {
        query: 'zebra',
      },
    );
    expect(none.json).toMatchObject({ data: [], has_more: false, next_page: null });
    const searchPath = '/vector_stores/{vector_store_id}/search';
    expect(
      (await call('post', searchPath, `/vector_stores/${store}/search`, { query: 'x', tone: 'warm' })).status,
    ).toBe(400);
    expect(
      (
        await call('post', searchPath, `/vector_stores/${store}/search`, {
          query: 'x',
          ranking_options: { depth: 1 },
        })
      ).status,
    ).toBe(400);
    expect((await call('post', searchPath, '/vector_stores/vs_nope/search', { query: 'x' })).status).toBe(
      404,
    );
    expect(
      (await call('post', '/vector_stores/{vector_store_id}/files', base, { file_id: 'file-nope' })).status,
    ).toBe(404);
    expect(
      (await call('post', '/vector_stores/{vector_store_id}/files', base, { file_id: fileId, priority: 1 }))
        .status,
    ).toBe(400);
    expect(
      (await call('get', '/vector_stores/{vector_store_id}/files/{file_id}', `${base}/file-nope`)).status,
    ).toBe(404);
    expect(
      (
        await call(
          'get',
          '/vector_stores/{vector_store_id}/files/{file_id}/content',
          `${base}/file-nope/content`,
        )
      ).status,
    ).toBe(404);
    await call('delete', '/vector_stores/{vector_store_id}/files/{file_id}', `${base}/${fileId}`);
    expect(
      (await call('delete', '/vector_stores/{vector_store_id}/files/{file_id}', `${base}/${fileId}`)).status,
    ).toBe(404);
  });

  it('file batches: files[] ignore the global fields, an all-failed batch fails; errors', async () => {
    const store = (await call('post', '/vector_stores', '/vector_stores', { name: 'batches' })).json
      .id as string;
    const a = (await call('post', '/files', '/files', undefined, fileForm('a.txt', 'alpha text'))).json
      .id as string;
    const b = (await call('post', '/files', '/files', undefined, fileForm('b.txt', 'beta text'))).json
      .id as string;
    const path = '/vector_stores/{vector_store_id}/file_batches';
    const batch = await call('post', path, `/vector_stores/${store}/file_batches`, {
      files: [{ file_id: a }, { file_id: b, attributes: { own: 'yes' } }],
      attributes: { global: 'ignored' },
      chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } },
    });
    const batchId = batch.json.id as string;
    await call('get', `${path}/{batch_id}`, `/vector_stores/${store}/file_batches/${batchId}`);
    const listed = await call(
      'get',
      `${path}/{batch_id}/files`,
      `/vector_stores/${store}/file_batches/${batchId}/files`,
    );
    const byId = Object.fromEntries(listed.json.data.map((f) => [f.id, f]));
    expect(byId[a]).toMatchObject({
      attributes: {},
      chunking_strategy: { static: { max_chunk_size_tokens: 800 } },
    });
    expect(byId[b]).toMatchObject({ attributes: { own: 'yes' } });
    await call('post', `${path}/{batch_id}/cancel`, `/vector_stores/${store}/file_batches/${batchId}/cancel`);

    const bad = (await call('post', '/files', '/files', undefined, fileForm('bad.pdf', 'not a pdf at all')))
      .json.id as string;
    const failed = await call('post', path, `/vector_stores/${store}/file_batches`, { file_ids: [bad] });
    const got = await call(
      'get',
      `${path}/{batch_id}`,
      `/vector_stores/${store}/file_batches/${failed.json.id}`,
    );
    expect(got.json).toMatchObject({ status: 'failed', file_counts: { failed: 1, total: 1 } });

    expect(
      (
        await call('post', path, `/vector_stores/${store}/file_batches`, {
          file_ids: [a],
          files: [{ file_id: a }],
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('post', path, `/vector_stores/${store}/file_batches`, { file_ids: [a], urgent: true }))
        .status,
    ).toBe(400);
    expect(
      (await call('get', `${path}/{batch_id}`, `/vector_stores/${store}/file_batches/vsfb_nope`)).status,
    ).toBe(404);
    expect(
      (
        await call(
          'post',
          `${path}/{batch_id}/cancel`,
          `/vector_stores/${store}/file_batches/vsfb_nope/cancel`,
        )
      ).status,
    ).toBe(404);
    expect(
      (await call('get', `${path}/{batch_id}/files`, `/vector_stores/${store}/file_batches/vsfb_nope/files`))
        .status,
    ).toBe(404);
  });

  it('embeddings, and their errors', async () => {
    await call('post', '/embeddings', '/embeddings', {
      input: 'hello',
      model: 'text-embedding-3-small',
      encoding_format: 'float',
    });
    await call('post', '/embeddings', '/embeddings', { input: ['a', 'b'], model: 'text-embedding-3-small' });
    expect((await call('post', '/embeddings', '/embeddings', { input: 'x' })).status).toBe(400);
    expect(
      (await call('post', '/embeddings', '/embeddings', { input: 'x', model: 'm', mood: 1 })).status,
    ).toBe(400);
  });

  it('covered every operation we serve (vector stores, files, uploads, embeddings), success and error', () => {
    const ops = Object.entries(spec.paths)
      .filter(([p]) => /^\/(vector_stores|files|uploads|embeddings)(\/|$)/.test(p))
      .flatMap(([p, item]) =>
        Object.keys(item)
          .filter((m) => ['get', 'post', 'delete', 'put', 'patch'].includes(m))
          .map((m) => `${m} ${p}`),
      );
    expect(ops.length).toBeGreaterThanOrEqual(26);
    for (const op of ops) {
      expect(
        checked.some((k) => k.startsWith(`${op} 2`)),
        `${op} success`,
      ).toBe(true);
      expect(
        checked.some((k) => k === `${op} error`),
        `${op} error`,
      ).toBe(true);
    }
    console.info(`OpenAI schema checks: ${checked.length} responses over ${ops.length} operations`);
  });
});
