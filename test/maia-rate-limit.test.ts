import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { maiaClient } from './maia-client.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ RATE_LIMIT_PER_MINUTE: '2' });
});
afterAll(() => app?.close());

describe('MAIA rate limit', () => {
  it('#7 counts per client IP and answers 429 in MAIA’s envelope', async () => {
    const maia = maiaClient(app.url);
    expect((await maia.get('/v1/vector_stores')).status).toBe(200);
    expect((await maia.get('/v1/vector_stores')).status).toBe(200);
    const third = await maia.get('/v1/vector_stores');
    expect(third.status).toBe(429);
    expect(third.body).toEqual({
      error: { message: 'Rate limit exceeded. Please slow down.', type: 'rate_limit_exceeded', code: 429 },
    });
    // Another key from the same address is the same client: MAIA limits by IP, not by key.
    expect((await maiaClient(app.url, { 'X-API-Key': 'other' }).get('/health')).status).toBe(429);
  });
});
