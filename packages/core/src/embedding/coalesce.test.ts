import { describe, expect, it, vi } from 'vitest';
import { EmbeddingCoalescer } from './coalesce.ts';
import type { EmbeddingProvider, EmbedResult } from './provider.ts';

/** A provider that records each request and embeds a text as [its length, its first char code]. */
function recorder(fail?: (inputs: string[]) => boolean) {
  const requests: string[][] = [];
  const provider: EmbeddingProvider = {
    kind: 'openai',
    model: 'm',
    dimensions: 2,
    semantic: true,
    async embed(inputs: string[]): Promise<EmbedResult> {
      requests.push(inputs);
      if (fail?.(inputs)) throw new Error('provider down');
      return {
        embeddings: inputs.map((t) => [t.length, t.charCodeAt(0)]),
        tokens: inputs.length,
        requests: 1,
      };
    },
  };
  return { provider, requests };
}

const limits = { maxInputs: 10, maxRequestTokens: 100 };

describe('the embedding coalescer', () => {
  it('shares requests between concurrent callers and routes each result back', async () => {
    const { provider, requests } = recorder();
    const c = new EmbeddingCoalescer(provider, { lingerMs: 20, limits });
    const jobs = Array.from({ length: 7 }, (_, j) => Array.from({ length: 3 }, (_, i) => `job${j}-text${i}`));
    const results = await Promise.all(jobs.map((texts) => c.embed(texts, { tokens: texts.map(() => 1) })));
    results.forEach((r, j) => {
      expect(r.embeddings).toEqual(jobs[j]!.map((t) => [t.length, t.charCodeAt(0)]));
    });
    // 21 inputs, 10 a request: the minimum is 3 (7 jobs alone would have made 7).
    expect(requests.length).toBe(3);
    expect(requests.every((r) => r.length <= 10)).toBe(true);
  });

  it('keeps waiting while more inputs are on their way', async () => {
    const { provider, requests } = recorder();
    const c = new EmbeddingCoalescer(provider, { lingerMs: 5, maxWaitMs: 5000, limits });
    let preparing = 3;
    c.holdWhile = () => preparing > 0;
    const results: Promise<unknown>[] = [];
    for (let j = 0; j < 3; j++) {
      results.push(c.embed([`late ${j}`], { tokens: [1] }));
      // Each job arrives well after the linger, but the worker says others are still coming.
      await new Promise((r) => setTimeout(r, 30));
      preparing--;
    }
    await Promise.all(results);
    expect(requests).toEqual([['late 0', 'late 1', 'late 2']]);
  });

  it("holds what a full request left over for its own maximum wait, not the first input's", async () => {
    vi.useFakeTimers();
    try {
      const { provider, requests } = recorder();
      const c = new EmbeddingCoalescer(provider, { lingerMs: 5, maxWaitMs: 1000, limits });
      c.holdWhile = () => true; // other jobs are still preparing inputs
      const texts = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
      const first = c.embed(['a'], { tokens: [1] });
      await vi.advanceTimersByTimeAsync(900);
      // 1 + 10 x 10 tokens: a full request goes at once (a, b0..b8), b9 is left over.
      const second = c.embed(texts('b', 10), { tokens: Array(10).fill(10) });
      await first;
      expect(requests).toEqual([['a', ...texts('b', 9)]]);
      // The batch's first input arrived 1,000 ms ago, b9 only 100 ms ago: it keeps waiting for company...
      await vi.advanceTimersByTimeAsync(600);
      expect(requests.length).toBe(1);
      const third = c.embed(texts('c', 9), { tokens: Array(9).fill(10) });
      await Promise.all([second, third]);
      // ...which fills the second request: two in all, the minimum for 191 tokens of 100 a request.
      expect(requests).toEqual([
        ['a', ...texts('b', 9)],
        ['b9', ...texts('c', 9)],
      ]);
      // And an input alone still goes once it has waited the maximum.
      const last = c.embed(['d'], { tokens: [1] });
      await vi.advanceTimersByTimeAsync(995);
      expect(requests.length).toBe(2);
      await vi.advanceTimersByTimeAsync(10);
      await last;
      expect(requests.at(-1)).toEqual(['d']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('packs by tokens and sends a text wanted twice once', async () => {
    const { provider, requests } = recorder();
    const c = new EmbeddingCoalescer(provider, { lingerMs: 20, limits });
    const a = c.embed(['x', 'y', 'z'], { tokens: [60, 50, 40] });
    const b = c.embed(['z', 'w'], { tokens: [40, 10] });
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.embeddings.length).toBe(3);
    expect(rb.embeddings[0]).toEqual(ra.embeddings[2]);
    // 150 tokens in requests of at most 100: two requests, 'z' in one of them only.
    expect(requests.length).toBe(2);
    expect(requests.flat().sort()).toEqual(['w', 'x', 'y', 'z']);
  });

  it('fails only the callers of a failed request, and lets an aborted caller go', async () => {
    const { provider } = recorder((inputs) => inputs.includes('bad'));
    const c = new EmbeddingCoalescer(provider, {
      lingerMs: 20,
      limits: { maxInputs: 2, maxRequestTokens: 100 },
    });
    const ok = c.embed(['a', 'b'], { tokens: [1, 1] });
    const bad = c.embed(['bad', 'c'], { tokens: [1, 1] });
    await expect(ok).resolves.toMatchObject({
      embeddings: [
        [1, 97],
        [1, 98],
      ],
    });
    await expect(bad).rejects.toThrow('provider down');
    const stop = new AbortController();
    const gone = c.embed(['q'], { signal: stop.signal });
    stop.abort(new Error('cancelled'));
    await expect(gone).rejects.toThrow('cancelled');
  });
});
