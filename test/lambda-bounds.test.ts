import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as api, INLINE_MARGIN_MS } from '../packages/functions/src/api.ts';
import { disposeServices } from '../packages/functions/src/lambda/container.ts';
import { handler as maintenance } from '../packages/functions/src/maintenance.ts';
import { handler as worker } from '../packages/functions/src/worker.ts';
import { type FakeAws, fakeAwsEnv, startFakeAws } from './fake-aws.ts';
import { type FakeOpenAI, startFakeOpenAI } from './fake-openai.ts';
import { httpEvent, lambdaContext, multipart, sqsEvent } from './lambda-events.ts';
import { seededDataDir } from './seeded.ts';

// What a Lambda invocation leaves behind: its metrics as EMF lines on stdout (the JSON log intact), and an
// ingest run in the request that stops at the request's deadline and goes on on the worker. And the
// preflights API Gateway passes on (its own CORS is off): the app answers them from CORS_ORIGINS.

let aws: FakeAws;
let openai: FakeOpenAI;
const KEY = 'sk-bounds-test';
const auth = { authorization: `Bearer ${KEY}` };

beforeAll(async () => {
  aws = await startFakeAws();
  openai = await startFakeOpenAI();
  const env: Record<string, string> = {
    ...fakeAwsEnv,
    DATA_DIR: await seededDataDir(),
    EMBEDDING_DIMENSIONS: '64',
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-provider',
    OPENAI_BASE_URL: openai.baseURL,
    LOG_LEVEL: 'info',
    API_KEYS: KEY,
    BLOB_STORE: 's3',
    S3_BUCKET: 'files',
    S3_ENDPOINT: aws.url,
    JOB_QUEUE: 'sqs',
    SQS_QUEUE_URL: aws.queueUrl,
    INLINE_MAX_BYTES: '100000',
    INGEST_LEASE_SECONDS: '10',
    CORS_ORIGINS: 'https://app.example.com',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
});
afterAll(async () => {
  await disposeServices();
  await aws?.close();
  await openai?.close();
  vi.unstubAllEnvs();
});

/** Everything the invocation writes to stdout and stderr, line by line. */
async function captured<T>(run: () => Promise<T>) {
  const out: string[] = [];
  const err: string[] = [];
  const grab = (into: string[]) => (chunk: unknown) => {
    into.push(String(chunk));
    return true;
  };
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(grab(out) as never);
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(grab(err) as never);
  try {
    const result = await run();
    return { result, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [k: string]: unknown;
}

/** Every line is one JSON object (nothing before or after it); the EMF ones, with their directives checked. */
function emfLines(text: string): Emf[] {
  expect(text.endsWith('\n')).toBe(true);
  const docs = text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l) as Emf);
  for (const doc of docs) {
    const [directive] = doc._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe('VectorDB');
    for (const key of directive!.Dimensions.flat()) expect(typeof doc[key]).toBe('string');
    for (const m of directive!.Metrics) expect(typeof doc[m.Name]).toBe('number');
  }
  return docs;
}
const metric = (docs: Emf[], name: string, labels: Record<string, string> = {}) =>
  docs.filter((d) => name in d && Object.entries(labels).every(([k, v]) => d[k] === v)).map((d) => d[name]);

const upload = (name: string, text: string) => {
  const form = multipart({}, { field: 'file', filename: name, type: 'text/plain', data: Buffer.from(text) });
  return { headers: { ...auth, 'content-type': form.contentType }, body: form.body };
};

let storeId: string;

describe('EMF metrics on Lambda', () => {
  it('flushes each invocation’s metrics as EMF lines on stdout, and only that invocation’s', async () => {
    const first = await captured(() => api(httpEvent('GET', '/health'), lambdaContext()));
    expect(first.result.statusCode).toBe(200);
    const docs = emfLines(first.stdout);
    expect(metric(docs, 'http_requests_total', { method: 'GET', status: '200' })).toEqual([1]);
    const latency = docs.find((d) => 'http_request_duration_seconds' in d)!;
    expect(latency._aws.CloudWatchMetrics[0]!.Metrics).toEqual([
      { Name: 'http_request_duration_seconds', Unit: 'Milliseconds' },
    ]);
    // The log stays JSON lines (stderr), none of them carrying metrics.
    for (const line of first.stderr.trim().split('\n').filter(Boolean)) {
      expect(JSON.parse(line)).not.toHaveProperty('_aws');
    }

    const created = await captured(() =>
      api(
        httpEvent('POST', '/v1/vector_stores', {
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'bounds' }),
        }),
        lambdaContext(),
      ),
    );
    storeId = JSON.parse(created.result.body).id;
    // Counts restart per invocation: this one saw one POST, not the earlier GET again.
    const again = emfLines(created.stdout);
    expect(metric(again, 'http_requests_total', { method: 'POST', status: '200' })).toEqual([1]);
    expect(metric(again, 'http_requests_total', { method: 'GET' })).toEqual([]);
  });

  it('flushes the worker’s and maintenance’s metrics too', async () => {
    aws.messages.length = 0;
    await api(
      httpEvent('POST', `/v1/vector_stores/${storeId}/files`, upload('a.txt', 'x '.repeat(60_000))),
      lambdaContext(),
    );
    expect(aws.messages).toHaveLength(1);
    const run = await captured(() => worker(sqsEvent(aws.messages.map((m) => m.body)), lambdaContext()));
    expect(run.result.batchItemFailures).toEqual([]);
    expect(metric(emfLines(run.stdout), 'ingest_jobs_total', { outcome: 'completed' })).toEqual([1]);
    const cron = await captured(() => maintenance());
    expect(cron.result).toMatchObject({ requeued_jobs: 0 });
    for (const line of cron.stdout.split('\n').filter(Boolean))
      expect(JSON.parse(line)).toHaveProperty('_aws');
  });
});

describe('ingestion within an api request', () => {
  it('stops at the request’s remaining time less the margin, answers in_progress and goes on on the worker', async () => {
    aws.messages.length = 0;
    openai.configure({ hang: true }); // the provider never answers: only the deadline can end the request
    const res = await api(
      httpEvent('POST', `/v1/vector_stores/${storeId}/files`, upload('slow.txt', 'a small note that hangs')),
      lambdaContext(INLINE_MARGIN_MS + 1_000),
    );
    expect(res.statusCode).toBe(201);
    const file = JSON.parse(res.body);
    expect(file.status).toBe('in_progress');
    expect(aws.messages.map((m) => JSON.parse(m.body))).toEqual([
      { vectorStoreId: storeId, fileId: file.id },
    ]);

    openai.configure({ hang: false });
    const run = await worker(sqsEvent(aws.messages.map((m) => m.body)), lambdaContext());
    expect(run.batchItemFailures).toEqual([]);
    const done = await api(
      httpEvent('GET', `/v1/vector_stores/${storeId}/files/${file.id}`, { headers: auth }),
      lambdaContext(),
    );
    expect(JSON.parse(done.body)).toMatchObject({ status: 'completed', last_error: null });
  });

  it('with time to spare, finishes small files in the request as before', async () => {
    aws.messages.length = 0;
    const res = await api(
      httpEvent('POST', `/v1/vector_stores/${storeId}/files`, upload('quick.txt', 'a small quick note')),
      lambdaContext(30_000),
    );
    expect(JSON.parse(res.body).status).toBe('completed');
    expect(aws.messages).toEqual([]);
  });
});

describe('the worker coalesces one SQS batch', () => {
  it('embeds the files of one batch of messages in shared requests, not one request per file', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const form = multipart(
        { purpose: 'assistants' },
        {
          field: 'file',
          filename: `batch-${i}.txt`,
          type: 'text/plain',
          data: Buffer.from(`File ${i} of the batch: ${'coalesced words '.repeat(7_000 + i)}`),
        },
      );
      const res = await api(
        httpEvent('POST', '/v1/files', {
          headers: { ...auth, 'content-type': form.contentType },
          body: form.body,
        }),
        lambdaContext(),
      );
      ids.push(JSON.parse(res.body).id);
    }
    aws.messages.length = 0;
    const batch = await api(
      httpEvent('POST', `/v1/vector_stores/${storeId}/file_batches`, {
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ file_ids: ids }),
      }),
      lambdaContext(),
    );
    expect(batch.statusCode).toBe(200);
    expect(aws.messages).toHaveLength(6);
    openai.resetStats();
    const run = await worker(sqsEvent(aws.messages.map((m) => m.body)), lambdaContext());
    expect(run.batchItemFailures).toEqual([]);
    // Past INLINE_MAX_BYTES, so queued. Every file's chunks went out together (INGEST_CONCURRENCY is 2: two
    // lanes taking the files one by one would send 3 requests or more).
    expect(openai.stats.requests).toBe(1);
    for (const id of ids) {
      const file = await api(
        httpEvent('GET', `/v1/vector_stores/${storeId}/files/${id}`, { headers: auth }),
        lambdaContext(),
      );
      expect(JSON.parse(file.body).status).toBe('completed');
    }
  });
});

describe('CORS through the api function (API Gateway passes preflights on)', () => {
  const preflight = (origin: string) =>
    api(
      httpEvent('OPTIONS', '/v1/vector_stores', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      }),
      lambdaContext(),
    );

  it('allows an origin in CORS_ORIGINS, with the headers the SDKs send', async () => {
    const res = await preflight('https://app.example.com');
    expect(res.statusCode).toBe(204);
    expect(res.headers?.['access-control-allow-origin']).toBe('https://app.example.com');
    expect(String(res.headers?.['access-control-allow-headers']).toLowerCase()).toContain('authorization');
  });

  it('gives any other origin no CORS grant (not `*`)', async () => {
    const res = await preflight('https://evil.example.net');
    expect(res.headers?.['access-control-allow-origin']).toBeUndefined();
    const get = await api(
      httpEvent('GET', '/health', { headers: { origin: 'https://evil.example.net' } }),
      lambdaContext(),
    );
    expect(get.headers?.['access-control-allow-origin']).toBeUndefined();
  });
});
