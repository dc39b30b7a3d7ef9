import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as api } from '../packages/functions/src/api.ts';
import { disposeServices, services } from '../packages/functions/src/lambda/container.ts';
import { handler as maintenance } from '../packages/functions/src/maintenance.ts';
import { handler as worker } from '../packages/functions/src/worker.ts';
import { type FakeAws, fakeAwsEnv, startFakeAws } from './fake-aws.ts';
import { httpEvent, lambdaContext, multipart, sqsEvent } from './lambda-events.ts';
import { seededDataDir } from './seeded.ts';

// The production shape outside AWS: the handlers in-process over the embedded database, S3 and SQS on loopback.
let aws: FakeAws;
const KEY = 'sk-lambda-test';
const auth = { authorization: `Bearer ${KEY}` };

beforeAll(async () => {
  aws = await startFakeAws();
  const env: Record<string, string> = {
    ...fakeAwsEnv,
    DATA_DIR: await seededDataDir(),
    EMBEDDING_DIMENSIONS: '64',
    LOG_LEVEL: 'silent',
    API_KEYS: KEY,
    BLOB_STORE: 's3',
    S3_BUCKET: 'files',
    S3_ENDPOINT: aws.url,
    JOB_QUEUE: 'sqs',
    SQS_QUEUE_URL: aws.queueUrl,
    INLINE_MAX_BYTES: '1000',
    INGEST_LEASE_SECONDS: '10',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
});
afterAll(async () => {
  await disposeServices();
  await aws?.close();
  vi.unstubAllEnvs();
});

async function call(event: APIGatewayProxyEventV2) {
  const res = await api(event, lambdaContext());
  const text = res.isBase64Encoded ? Buffer.from(res.body, 'base64').toString() : res.body;
  return { status: res.statusCode, headers: res.headers ?? {}, json: text ? JSON.parse(text) : undefined };
}
const json = (method: string, path: string, body: unknown, headers: Record<string, string> = auth) =>
  call(
    httpEvent(method, path, {
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i % 97} lambda ingestion`).join(' ');

let storeId: string;
let queuedFileId: string;

describe('api handler (API Gateway HTTP API v2 events)', () => {
  it('answers /health without a key and 401 without one on /v1', async () => {
    const health = await call(httpEvent('GET', '/health'));
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ status: 'ok', database: { status: 'ok' } });

    const missing = await json('POST', '/v1/vector_stores', { name: 'x' }, {});
    expect(missing.status).toBe(401);
    expect(missing.json.error).toMatchObject({ type: 'authentication_error', code: 'missing_api_key' });
    const wrong = await json('POST', '/v1/vector_stores', { name: 'x' }, { 'x-api-key': 'sk-wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('invalid_api_key');
  });

  it('takes base64 multipart uploads: a small one ingested in the request, a large one queued on SQS', async () => {
    const store = await json('POST', '/v1/vector_stores', { name: 'lambda' });
    expect(store.status).toBe(200);
    storeId = store.json.id;

    const small = multipart(
      {},
      {
        field: 'file',
        filename: 'small.txt',
        type: 'text/plain',
        data: Buffer.from('tiny note about lambda'),
      },
    );
    const inline = await call(
      httpEvent('POST', `/v1/vector_stores/${storeId}/files`, {
        headers: { ...auth, 'content-type': small.contentType },
        body: small.body,
      }),
    );
    expect(inline.status).toBe(201);
    expect(inline.json.status).toBe('completed');

    const big = multipart(
      { attributes: JSON.stringify({ kind: 'big' }) },
      { field: 'file', filename: 'big.txt', type: 'text/plain', data: Buffer.from(words(400)) },
    );
    const queued = await call(
      httpEvent('POST', `/v1/vector_stores/${storeId}/files`, {
        headers: { ...auth, 'content-type': big.contentType },
        body: big.body,
      }),
    );
    expect(queued.status).toBe(201);
    expect(queued.json).toMatchObject({ status: 'in_progress', attributes: { kind: 'big' } });
    queuedFileId = queued.json.id;
    expect(aws.messages.map((m) => JSON.parse(m.body))).toEqual([
      { vectorStoreId: storeId, fileId: queuedFileId },
    ]);
    expect(aws.objects.get(`files/proj_default/${queuedFileId}`)?.toString()).toBe(words(400));
  });

  it('takes a large file in parts through the Uploads API (each part its own base64 request)', async () => {
    const data = Buffer.from(words(2000));
    const created = await json('POST', '/v1/uploads', {
      filename: 'parts.txt',
      purpose: 'assistants',
      bytes: data.length,
      mime_type: 'text/plain',
    });
    expect(created.json).toMatchObject({ object: 'upload', status: 'pending' });
    const ids: string[] = [];
    for (const chunk of [data.subarray(0, 9000), data.subarray(9000)]) {
      const form = multipart(
        {},
        { field: 'data', filename: 'blob', type: 'application/octet-stream', data: chunk },
      );
      const res = await call(
        httpEvent('POST', `/v1/uploads/${created.json.id}/parts`, {
          headers: { ...auth, 'content-type': form.contentType },
          body: form.body,
        }),
      );
      expect(res.status).toBe(200);
      ids.push(res.json.id);
    }
    const done = await json('POST', `/v1/uploads/${created.json.id}/complete`, { part_ids: ids });
    expect(done.json).toMatchObject({
      status: 'completed',
      file: { bytes: data.length, filename: 'parts.txt' },
    });
    expect(aws.objects.get(`files/proj_default/${done.json.file.id}`)?.equals(data)).toBe(true);
    // Downloading redirects to a short-lived presigned S3 URL (Lambda's response cap never applies).
    const content = await api(
      httpEvent('GET', `/v1/files/${done.json.file.id}/content`, { headers: auth }),
      lambdaContext(),
    );
    expect(content.statusCode).toBe(307);
    const location = new URL(String(content.headers?.location));
    expect(location.origin).toBe(aws.url);
    expect(location.pathname).toBe(`/files/proj_default/${done.json.file.id}`);
    expect(Number(location.searchParams.get('X-Amz-Expires'))).toBeLessThanOrEqual(300);
    const fetched = await fetch(location);
    expect(fetched.status).toBe(200);
    expect(fetched.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''parts.txt");
    expect(fetched.headers.get('content-type')).toBe('text/plain');
    expect(Buffer.from(await fetched.arrayBuffer()).equals(data)).toBe(true);
    // Not a bearer of its own: the same URL with the API key added is refused, as S3 refuses two signatures.
    expect((await fetch(location, { headers: auth })).status).toBe(400);
    expect([...aws.objects.keys()].filter((k) => k.includes('/uploads/'))).toEqual([]);
  });
});

describe('worker handler (SQS batches)', () => {
  it('ingests the named jobs and reports only the poisoned message in batchItemFailures', async () => {
    const event = sqsEvent([...aws.messages.map((m) => m.body), 'this is not a job']);
    const poisoned = event.Records.at(-1)!.messageId;
    const res = await worker(event, lambdaContext());
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: poisoned }]);

    const file = await call(
      httpEvent('GET', `/v1/vector_stores/${storeId}/files/${queuedFileId}`, { headers: auth }),
    );
    expect(file.json.status).toBe('completed');
    // A message delivered again finds nothing to claim and is simply acknowledged.
    expect((await worker(sqsEvent([aws.messages[0]!.body]), lambdaContext())).batchItemFailures).toEqual([]);
  });
});

describe('worker handler near its timeout', () => {
  it('hands unfinished jobs back (reported failed, lease released) and finishes them on redelivery', async () => {
    const { db } = await services();
    aws.messages.length = 0;
    for (const name of ['late-a.txt', 'late-b.txt']) {
      const form = multipart(
        {},
        { field: 'file', filename: name, type: 'text/plain', data: Buffer.from(words(300)) },
      );
      await call(
        httpEvent('POST', `/v1/vector_stores/${storeId}/files`, {
          headers: { ...auth, 'content-type': form.contentType },
          body: form.body,
        }),
      );
    }
    const event = sqsEvent(aws.messages.map((m) => m.body));
    // 15 s left is exactly the hand-back margin: nothing may be started or finished now.
    const res = await worker(event, lambdaContext(15_000));
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    );
    const ids = aws.messages.map((m) => JSON.parse(m.body).fileId);
    const rows = await db.sql`SELECT status, lease_owner FROM vector_store_files WHERE file_id = ANY(${ids})`;
    expect(rows.map((r) => [r.status, r.lease_owner])).toEqual([
      ['in_progress', null],
      ['in_progress', null],
    ]);
    expect((await worker(event, lambdaContext())).batchItemFailures).toEqual([]);
    const done = await db.sql`SELECT status FROM vector_store_files WHERE file_id = ANY(${ids})`;
    expect(done.map((r) => r.status)).toEqual(['completed', 'completed']);
  });
});

describe('maintenance handler (cron)', () => {
  it('re-queues a job whose worker died, expires files and purges deleted blobs', async () => {
    const { db } = await services();
    const big = multipart(
      {},
      { field: 'file', filename: 'late.txt', type: 'text/plain', data: Buffer.from(words(300)) },
    );
    const queued = await call(
      httpEvent('POST', `/v1/vector_stores/${storeId}/files`, {
        headers: { ...auth, 'content-type': big.contentType },
        body: big.body,
      }),
    );
    aws.messages.length = 0;
    await db.sql`UPDATE vector_store_files SET lease_owner = 'dead-worker', lease_expires_at = now() - interval '1 second'
                 WHERE file_id = ${queued.json.id}`;
    const expiring = await json('POST', '/v1/uploads', {
      filename: 'e.txt',
      purpose: 'assistants',
      bytes: 3,
      mime_type: 'text/plain',
    });
    await db.sql`UPDATE uploads SET expires_at = now() - interval '1 second' WHERE id = ${expiring.json.id}`;
    aws.objects.set('files/proj_default/orphan', Buffer.from('left behind'));
    await db.sql`INSERT INTO deleted_blobs (blob_key, deleted_at) VALUES ('proj_default/orphan', now() - interval '5 minutes')`;

    // A file past its expires_at, and a store that expired while one of its files waited.
    const doomed = multipart(
      { purpose: 'assistants' },
      { field: 'file', filename: 'old.txt', type: 'text/plain', data: Buffer.from('old') },
    );
    const oldFile = await call(
      httpEvent('POST', '/v1/files', {
        headers: { ...auth, 'content-type': doomed.contentType },
        body: doomed.body,
      }),
    );
    await db.sql`UPDATE files SET expires_at = now() - interval '1 second' WHERE id = ${oldFile.json.id}`;
    const stale = await json('POST', '/v1/vector_stores', { name: 'expiring' });
    const waiting = multipart(
      {},
      { field: 'file', filename: 'w.txt', type: 'text/plain', data: Buffer.from(words(300)) },
    );
    await call(
      httpEvent('POST', `/v1/vector_stores/${stale.json.id}/files`, {
        headers: { ...auth, 'content-type': waiting.contentType },
        body: waiting.body,
      }),
    );
    await db.sql`UPDATE vector_stores SET expires_at = now() - interval '1 second' WHERE id = ${stale.json.id}`;
    aws.messages.length = 0;
    // A cached embedding nobody used for longer than EMBEDDING_CACHE_RETENTION_DAYS (90).
    await db.sql`INSERT INTO embedding_cache (model, dimensions, text_sha256, embedding, used_at)
      VALUES ('openai:old', 3, '\\x00', '[1,0,0]', now() - interval '91 days')`;
    // The terms of a draft removed by a job that stopped before tidying them (migration 0009).
    await db.sql`INSERT INTO generation_terms (vector_store_id, file_id, generation, lexeme, chunks)
      VALUES (${storeId}, 'file_gone', 1, 'stale', 1)`;
    await db.sql`INSERT INTO term_backlog (vector_store_id, file_id, generation, sign)
      VALUES (${storeId}, 'file_gone', 1, 0)`;

    const report = await maintenance();
    expect(report).toEqual({
      expired_files: 1,
      expired_uploads: 1,
      cancelled_jobs: 1,
      requeued_jobs: 1,
      purged_blobs: 1,
      purged_embeddings: 1,
      settled_terms: 1,
    });
    expect(await db.sql`SELECT * FROM generation_terms WHERE file_id = 'file_gone'`).toEqual([]);
    expect((await call(httpEvent('GET', `/v1/files/${oldFile.json.id}`, { headers: auth }))).status).toBe(
      404,
    );
    expect(aws.messages.map((m) => JSON.parse(m.body).fileId)).toEqual([queued.json.id]);
    expect(aws.objects.has('files/proj_default/orphan')).toBe(false);

    expect(
      (await worker(sqsEvent(aws.messages.map((m) => m.body)), lambdaContext())).batchItemFailures,
    ).toEqual([]);
    const file = await call(
      httpEvent('GET', `/v1/vector_stores/${storeId}/files/${queued.json.id}`, { headers: auth }),
    );
    expect(file.json.status).toBe('completed');
  });
});
