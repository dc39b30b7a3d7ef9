import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as api } from '../packages/functions/src/api.ts';
import { disposeServices } from '../packages/functions/src/lambda/container.ts';
import { handler as worker } from '../packages/functions/src/worker.ts';
import { type FakeAws, fakeAwsEnv, startFakeAws } from './fake-aws.ts';
import { httpEvent, lambdaContext, sqsEvent } from './lambda-events.ts';
import { seededDataDir } from './seeded.ts';

// The production topology on loopback: the official SDK speaks HTTP to a stand-in for API Gateway, which
// turns each request into a payload 2.0 event for the api handler (bodies base64, as binary arrives);
// messages the api sends to SQS are delivered to the worker handler in batches, as the event source
// mapping would, and redelivered when reported failed.

let aws: FakeAws;
let gateway: Server;
let client: OpenAI;
const stopDelivering = new AbortController();
let pump: Promise<void>;
let delivered = 0;
/** What the api function answered through the gateway (Lambda caps a response at 6 MB). */
const responses: { path: string; status: number; bytes: number }[] = [];

async function deliver() {
  while (!stopDelivering.signal.aborted) {
    const batch = aws.messages.splice(0, 5);
    if (batch.length) {
      delivered += batch.length;
      const res = await worker(sqsEvent(batch.map((m) => m.body)), lambdaContext());
      expect(res.batchItemFailures).toEqual([]);
    } else await aws.nextMessage(stopDelivering.signal);
  }
}

beforeAll(async () => {
  aws = await startFakeAws();
  const env: Record<string, string> = {
    ...fakeAwsEnv,
    DATA_DIR: await seededDataDir(),
    EMBEDDING_DIMENSIONS: '64',
    LOG_LEVEL: 'silent',
    API_KEYS: 'sk-gateway',
    BLOB_STORE: 's3',
    S3_BUCKET: 'files',
    S3_ENDPOINT: aws.url,
    JOB_QUEUE: 'sqs',
    SQS_QUEUE_URL: aws.queueUrl,
    INLINE_MAX_BYTES: '1000', // the small note is ingested in the request; the uploaded file goes through SQS
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  gateway = createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const chunk of req) parts.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://gateway');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
    );
    const event = httpEvent(req.method ?? 'GET', url.pathname, {
      headers,
      query: url.search.slice(1),
      ...(parts.length ? { body: Buffer.concat(parts) } : {}),
    });
    const out = await api(event, lambdaContext(30_000));
    responses.push({ path: url.pathname, status: out.statusCode, bytes: out.body?.length ?? 0 });
    res.writeHead(out.statusCode, out.headers as Record<string, string>);
    res.end(out.body === undefined ? '' : Buffer.from(out.body, out.isBase64Encoded ? 'base64' : 'utf8'));
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
  const port = (gateway.address() as AddressInfo).port;
  client = new OpenAI({ apiKey: 'sk-gateway', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  pump = deliver();
});

afterAll(async () => {
  stopDelivering.abort();
  await pump;
  await new Promise((resolve) => gateway?.close(resolve));
  await disposeServices();
  await aws?.close();
  vi.unstubAllEnvs();
});

const text = (n: number, word: string) =>
  Array.from({ length: n }, (_, i) => `${word} paragraph ${i} about lambda deployments`).join('\n');

describe('the official SDK through API Gateway events, S3 and SQS', () => {
  it('uploads a file in parts, attaches it (queued, ingested by the worker) and searches it', async () => {
    const body = Buffer.from(text(400, 'zebra'));
    const upload = await client.uploads.create({
      filename: 'zebra.txt',
      purpose: 'assistants',
      bytes: body.length,
      mime_type: 'text/plain',
    });
    const half = Math.floor(body.length / 2);
    const p1 = await client.uploads.parts.create(upload.id, {
      data: await toFile(body.subarray(0, half), 'p1'),
    });
    const p2 = await client.uploads.parts.create(upload.id, {
      data: await toFile(body.subarray(half), 'p2'),
    });
    const done = await client.uploads.complete(upload.id, { part_ids: [p1.id, p2.id] });
    expect(done.file?.bytes).toBe(body.length);

    const store = await client.vectorStores.create({ name: 'gateway' });
    const vsf = await client.vectorStores.files.createAndPoll(
      store.id,
      { file_id: done.file!.id },
      { pollIntervalMs: 50 },
    );
    expect(vsf.status).toBe('completed');
    expect(delivered).toBe(1); // ingested by the worker handler, woken through SQS

    const small = await client.vectorStores.files.uploadAndPoll(
      store.id,
      await toFile(Buffer.from('a giraffe note, short enough to ingest within the request'), 'giraffe.txt'),
    );
    expect(small.status).toBe('completed');
    expect(delivered).toBe(1);

    const page = await client.vectorStores.search(store.id, { query: 'zebra paragraph' });
    expect(page.data[0]?.filename).toBe('zebra.txt');
    const content = Buffer.from(await (await client.files.content(done.file!.id)).arrayBuffer());
    expect(content.equals(body)).toBe(true);
  });

  it('downloads file content of any size from S3 by a redirect the SDK follows (not through Lambda)', async () => {
    // Over Lambda's 6 MB response cap, which a body through the function could never pass (4.4 MB after base64).
    const big = Buffer.alloc(7 * 1024 * 1024, 'vector store bytes ');
    const file = await client.files.create({ file: await toFile(big, 'big.bin'), purpose: 'assistants' });
    aws.presignedGets.length = 0;
    responses.length = 0;
    const res = await client.files.content(file.id);
    expect(res.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''big.bin");
    expect(Buffer.from(await res.arrayBuffer()).equals(big)).toBe(true);
    expect(responses).toEqual([{ path: `/v1/files/${file.id}/content`, status: 307, bytes: 0 }]);
    expect(aws.presignedGets).toEqual([{ key: `files/proj_default/${file.id}`, status: 200 }]);
  });

  it('answers errors in the OpenAI envelope through the gateway', async () => {
    await expect(client.vectorStores.retrieve('vs_missing')).rejects.toMatchObject({ status: 404 });
    const anonymous = new OpenAI({ apiKey: 'sk-wrong', baseURL: client.baseURL, maxRetries: 0 });
    await expect(anonymous.vectorStores.list()).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
  });
});
