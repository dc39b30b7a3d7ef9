import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from './retry.ts';
import { Semaphore } from './semaphore.ts';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const h = (init: Record<string, string>) => new Headers(init);

  it('reads seconds, HTTP dates and retry-after-ms (which wins)', () => {
    expect(parseRetryAfter(h({ 'retry-after': '2' }), now)).toBe(2000);
    expect(parseRetryAfter(h({ 'retry-after': '0.5' }), now)).toBe(500);
    expect(parseRetryAfter(h({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now)).toBe(3000);
    expect(parseRetryAfter(h({ 'retry-after': 'Wed, 31 Dec 2025 23:59:00 GMT' }), now)).toBe(0);
    expect(parseRetryAfter(h({ 'retry-after': '2', 'retry-after-ms': '150' }), now)).toBe(150);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter(h({}), now)).toBeUndefined();
    expect(parseRetryAfter(h({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(parseRetryAfter(h({ 'retry-after': '-1' }), now)).toBeUndefined();
    expect(parseRetryAfter(h({ 'retry-after-ms': 'x', 'retry-after': '1' }), now)).toBe(1000);
  });
});

describe('backoffDelay', () => {
  it('is full jitter under an exponential cap', () => {
    const policy = (r: number) => ({ baseMs: 100, maxMs: 1000, random: () => r });
    expect(backoffDelay(0, policy(0.999))).toBe(99);
    expect(backoffDelay(2, policy(0.999))).toBe(399);
    expect(backoffDelay(10, policy(0.999))).toBe(999);
    expect(backoffDelay(3, policy(0))).toBe(0);
    expect(backoffDelay(3, policy(0.5))).toBe(400);
  });
});

describe('Semaphore', () => {
  it('bounds holders, serves waiters in order and lets an aborted waiter go', async () => {
    const s = new Semaphore(1);
    const order: string[] = [];
    const first = await s.acquire();
    const controller = new AbortController();
    const aborted = s.acquire(controller.signal);
    const second = s.acquire().then((release) => {
      order.push('second');
      return release;
    });
    controller.abort(new Error('gone'));
    await expect(aborted).rejects.toThrow('gone');
    expect(order).toEqual([]);
    first();
    first(); // a second release of the same slot is a no-op
    (await second)();
    expect(order).toEqual(['second']);
    const third = await s.acquire();
    const fourth = s.acquire();
    let gotFourth = false;
    void fourth.then(() => {
      gotFourth = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(gotFourth).toBe(false);
    third();
    await fourth;
  });
});
