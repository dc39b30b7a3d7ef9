import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testConfig } from '../../../../test/config.ts';
import { type FakeOpenAI, fakeVector, startFakeOpenAI } from '../../../../test/fake-openai.ts';
import { ApiError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import { countTokens } from '../tokenizer.ts';
import { OpenAIEmbeddingProvider, type OpenAIProviderOptions } from './openai.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.setScript([]);
  fake.configure({ latencyMs: 0, hang: false });
  fake.resetStats();
});

const silent = createLogger({ level: 'silent' });

function provider(
  env: Record<string, string> = {},
  options: OpenAIProviderOptions = {},
  logger: Logger = silent,
) {
  const config = testConfig({
    EMBEDDING_PROVIDER: 'openai',
    OPENAI_API_KEY: 'sk-test-secret-key',
    OPENAI_BASE_URL: fake.baseURL,
    ...env,
  });
  return new OpenAIEmbeddingProvider(config, logger, { backoffBaseMs: 1, backoffMaxMs: 5, ...options });
}

/** A logger that keeps warn lines as objects, to check what retries log. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'warn', json: true, write: (l) => lines.push(JSON.parse(l)) });
  return { logger, lines };
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

const texts = (n: number, prefix = 'text') => Array.from({ length: n }, (_, i) => `${prefix} number ${i}`);

describe('packing', () => {
  it('splits at 2,048 inputs with the fewest requests, results in input order', async () => {
    const inputs = texts(5000);
    const result = await provider().embed(inputs);
    expect(fake.stats.inputsPerRequest).toEqual([2048, 2048, 904]);
    expect(result.requests).toBe(3);
    expect(result.embeddings).toHaveLength(5000);
    inputs.forEach((text, i) => {
      expect(result.embeddings[i]).toEqual(fakeVector(text, 64));
    });
  });

  it('splits at 300,000 tokens per request with the fewest requests', async () => {
    const input = `start${' word'.repeat(7000)}`;
    const t = countTokens(input);
    const n = 100;
    const result = await provider().embed(Array(n).fill(input));
    expect(result.requests).toBe(Math.ceil(n / Math.floor(300_000 / t)));
    expect(fake.stats.requests).toBe(result.requests);
    for (const call of fake.stats.calls) expect(call.tokens).toBeLessThanOrEqual(300_000);
    expect(result.tokens).toBe(n * t);
  });

  it('reports tokens from usage and sends float encoding with dimensions for text-embedding-3', async () => {
    const result = await provider().embed(['alpha', 'beta gamma']);
    expect(result).toMatchObject({ tokens: fake.stats.tokens, requests: 1 });
    expect(fake.stats.calls[0]).toMatchObject({
      model: 'text-embedding-3-small',
      dimensions: 64,
      encodingFormat: 'float',
    });
  });

  it('sends dimensions to other models only when asked', async () => {
    const p = provider({ EMBEDDING_MODEL: 'nomic-embed-text' });
    await p.embed(['alpha']);
    expect(fake.stats.calls[0]!.dimensions).toBeUndefined();
    await p.embed(['alpha'], { model: 'text-embedding-3-large', dimensions: 32 });
    expect(fake.stats.calls[1]).toMatchObject({ model: 'text-embedding-3-large', dimensions: 32 });
  });

  it('answers an empty input list without a request', async () => {
    expect(await provider().embed([])).toEqual({ embeddings: [], tokens: 0, requests: 0 });
    expect(fake.stats.requests).toBe(0);
  });

  it('rejects an input over 8,192 tokens before sending anything', async () => {
    const err = await failure(provider().embed(['fine', 'x'.repeat(5) + ' word'.repeat(9000)]));
    expect(err).toMatchObject({ code: 'invalid_request', status: 400 });
    expect(err.message).toContain('Input 1');
    expect(fake.stats.requests).toBe(0);
  });
});

describe('concurrency', () => {
  it('keeps input order when later requests finish first', async () => {
    fake.setScript([{ latencyMs: 80 }, { latencyMs: 40 }]);
    const inputs = texts(95);
    const result = await provider({ EMBEDDING_CONCURRENCY: '4' }, { limits: { maxInputs: 10 } }).embed(
      inputs,
    );
    expect(fake.stats.requests).toBe(10);
    expect(result.embeddings).toEqual(inputs.map((t) => fakeVector(t, 64)));
  });

  it('never has more requests in flight than EMBEDDING_CONCURRENCY, across calls', async () => {
    fake.configure({ latencyMs: 20 });
    const p = provider({ EMBEDDING_CONCURRENCY: '3' }, { limits: { maxInputs: 1 } });
    await Promise.all([p.embed(texts(12, 'a')), p.embed(texts(12, 'b'))]);
    expect(fake.stats.requests).toBe(24);
    expect(fake.stats.maxInFlight).toBe(3);
  });
});

describe('retries', () => {
  it('retries 429 (honouring Retry-After) and 500, then succeeds, logging each retry', async () => {
    fake.setScript([{ status: 429, retryAfter: '1' }, { status: 500 }]);
    const { logger, lines } = capture();
    const result = await provider({}, {}, logger).embed(['hello']);
    expect(result.embeddings[0]).toEqual(fakeVector('hello', 64));
    expect(result.requests).toBe(1);
    expect(fake.stats.requests).toBe(3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'warn', attempt: 1, status: 429 });
    expect(lines[0]!.delayMs).toBeGreaterThanOrEqual(1000);
    expect(lines[1]).toMatchObject({ attempt: 2, status: 500 });
    expect(lines[1]!.delayMs).toBeLessThan(1000);
  });

  it('honours retry-after-ms', async () => {
    fake.setScript([{ status: 503, retryAfterMs: 120 }]);
    const { logger, lines } = capture();
    await provider({}, {}, logger).embed(['hello']);
    expect(lines[0]).toMatchObject({ status: 503 });
    expect(lines[0]!.delayMs).toBeGreaterThanOrEqual(120);
  });

  it('retries connection failures', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    const { logger, lines } = capture();
    const p = provider(
      { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, EMBEDDING_MAX_RETRIES: '2' },
      {},
      logger,
    );
    const err = await failure(p.embed(['hello']));
    expect(err).toMatchObject({ code: 'embedding_error', status: 502 });
    expect(lines.map((l) => l.status)).toEqual(['connection', 'connection']);
  });

  it('gives up after EMBEDDING_MAX_RETRIES retries with embedding_error (502)', async () => {
    fake.setScript(Array(10).fill({ status: 500 }));
    const err = await failure(provider({ EMBEDDING_MAX_RETRIES: '2' }).embed(['hello']));
    expect(err).toMatchObject({ code: 'embedding_error', status: 502 });
    expect(err.message).toMatch(/failed 3 times.*HTTP 500/);
    expect(fake.stats.requests).toBe(3);
  });

  it.each([
    [401, /rejected the API key \(401\)/],
    [403, /refused access \(403\)/],
    [404, /no model 'text-embedding-3-small'.*\(404\)/],
    [400, /rejected the request \(400\)/],
  ])('does not retry %i and says what to fix', async (status, message) => {
    fake.setScript([{ status, message: 'Incorrect API key provided: sk-abc***xyz.' }]);
    const err = await failure(provider().embed(['hello']));
    expect(err).toMatchObject({ code: 'embedding_error', status: 502 });
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/sk-/);
    expect(fake.stats.requests).toBe(1);
  });

  it('does not retry a 429 that means the quota is spent', async () => {
    fake.setScript([{ status: 429, code: 'insufficient_quota' }]);
    const err = await failure(provider().embed(['hello']));
    expect(err.message).toContain('out of quota');
    expect(fake.stats.requests).toBe(1);
  });

  it('stops the other batches once one fails for good', async () => {
    fake.setScript([{}, { status: 401 }]);
    const p = provider({ EMBEDDING_CONCURRENCY: '1' }, { limits: { maxInputs: 1 } });
    await failure(p.embed(texts(6)));
    expect(fake.stats.requests).toBe(2);
  });
});

describe('timeouts', () => {
  it('times out a hung request and retries it', async () => {
    fake.setScript([{ hang: true }]);
    const result = await provider({ EMBEDDING_TIMEOUT_MS: '200' }).embed(['hello']);
    expect(result.embeddings[0]).toEqual(fakeVector('hello', 64));
    expect(fake.stats.requests).toBe(2);
  });

  it('fails when every attempt hangs, within a bound', async () => {
    fake.configure({ hang: true });
    const err = await failure(
      provider({ EMBEDDING_TIMEOUT_MS: '200', EMBEDDING_MAX_RETRIES: '1' }).embed(['hello']),
    );
    expect(err).toMatchObject({ code: 'embedding_error', status: 502 });
    expect(err.message).toContain('no answer within 200 ms');
    expect(fake.stats.requests).toBe(2);
  });

  it('stops retrying at the overall deadline', async () => {
    fake.configure({ hang: true });
    const p = provider({ EMBEDDING_TIMEOUT_MS: '200', EMBEDDING_MAX_RETRIES: '20' }, { deadlineMs: 500 });
    const err = await failure(p.embed(['hello']));
    expect(err.message).toMatch(/did not succeed within 0.5 s/);
    expect(fake.stats.requests).toBeLessThanOrEqual(4);
  });
});

describe('abort', () => {
  it('stops waiting and sends no further requests', async () => {
    fake.configure({ latencyMs: 300 });
    const controller = new AbortController();
    const p = provider({ EMBEDDING_CONCURRENCY: '1' }, { limits: { maxInputs: 1 } });
    const pending = p.embed(texts(5), { signal: controller.signal });
    await fake.until((stats) => stats.requests === 1);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // The one request slot is first-come first-served: had the aborted call kept any of its four other
    // batches, they would be sent before this one.
    fake.configure({ latencyMs: 0 });
    await p.embed(['after the abort']);
    expect(fake.stats.requests).toBe(2);
    expect(fake.stats.calls.map((c) => c.inputs)).toEqual([1, 1]);
  });

  it('interrupts a backoff wait', async () => {
    fake.setScript([{ status: 500 }]);
    const controller = new AbortController();
    const p = provider({}, { backoffBaseMs: 60_000, backoffMaxMs: 60_000, random: () => 0.99 });
    const pending = p.embed(['hello'], { signal: controller.signal });
    // Answered (500): the provider is now in its minute-long backoff, which only the abort can end.
    await fake.until((stats) => stats.requests === 1 && stats.inFlight === 0);
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('sends nothing when already aborted', async () => {
    await expect(provider().embed(['hello'], { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(fake.stats.requests).toBe(0);
  });
});

describe('response checks', () => {
  it('reports a dimension mismatch with the setting to change, without retrying', async () => {
    fake.setScript([{ dimensions: 32 }]);
    const err = await failure(provider().embed(['hello']));
    expect(err).toMatchObject({ code: 'embedding_error', status: 502 });
    expect(err.message).toContain('EMBEDDING_DIMENSIONS=32');
    expect(fake.stats.requests).toBe(1);
  });
});
