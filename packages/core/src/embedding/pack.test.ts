import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.ts';
import { EMBEDDING_LIMITS } from '../limits.ts';
import { countTokens } from '../tokenizer.ts';
import { packBatches, packCounts } from './pack.ts';

// The fewest contiguous runs, by dynamic programming: the reference greedy must match.
function minimumRuns(counts: number[], maxInputs: number, maxRequestTokens: number): number {
  const best = [0];
  for (let end = 1; end <= counts.length; end++) {
    best[end] = Number.POSITIVE_INFINITY;
    let tokens = 0;
    for (let start = end - 1; start >= 0 && end - start <= maxInputs; start--) {
      tokens += counts[start]!;
      if (tokens > maxRequestTokens) break;
      best[end] = Math.min(best[end]!, best[start]! + 1);
    }
  }
  return best[counts.length]!;
}

describe('packCounts', () => {
  it('uses as many requests as the ceil bound on uniform inputs', () => {
    const cases: Array<[n: number, t: number]> = [
      [1, 1],
      [2048, 1],
      [2049, 1],
      [5000, 10],
      [3000, 200],
      [1000, 8192],
      [4097, 146],
      [4097, 147],
    ];
    for (const [n, t] of cases) {
      const runs = packCounts(Array(n).fill(t), EMBEDDING_LIMITS);
      const perRequest = Math.min(
        EMBEDDING_LIMITS.maxInputs,
        Math.floor(EMBEDDING_LIMITS.maxRequestTokens / t),
      );
      expect(runs.length, `n=${n} t=${t}`).toBe(Math.ceil(n / perRequest));
    }
  });

  it('needs no more requests than any in-order packing, and respects both limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 30, max: 90 }),
        (counts, maxInputs, maxRequestTokens) => {
          const runs = packCounts(counts, { maxInputs, maxRequestTokens });
          expect(runs.length).toBe(minimumRuns(counts, maxInputs, maxRequestTokens));
          expect(runs.flatMap((r) => counts.slice(r.start, r.end))).toEqual(counts);
          for (const r of runs) {
            expect(r.end - r.start).toBeLessThanOrEqual(maxInputs);
            expect(r.tokens).toBeLessThanOrEqual(maxRequestTokens);
          }
        },
      ),
    );
  });
});

describe('packBatches', () => {
  it('keeps inputs in order and counts cl100k tokens', () => {
    const inputs = ['hello world', 'second input', 'third'];
    const batches = packBatches(inputs, { maxInputs: 2, maxRequestTokens: 100, maxInputTokens: 50 });
    expect(batches.map((b) => b.inputs)).toEqual([['hello world', 'second input'], ['third']]);
    expect(batches.map((b) => b.start)).toEqual([0, 2]);
    expect(batches[0]!.tokens).toBe(countTokens('hello world') + countTokens('second input'));
  });

  it('rejects an input over 8,192 tokens, naming its index', () => {
    const long = 'a'.repeat(10) + ' word'.repeat(9000);
    expect(countTokens(long)).toBeGreaterThan(8192);
    const err = (() => {
      try {
        packBatches(['ok', 'fine', long]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ code: 'invalid_request', param: 'input', status: 400 });
    expect((err as Error).message).toMatch(/Input 2 has \d+ tokens/);
  });

  it('rejects an empty input', () => {
    expect(() => packBatches(['a', ''])).toThrow(/Input 1 is empty/);
  });

  it('treats special-token text as plain text instead of throwing', () => {
    expect(countTokens('a <|endoftext|> b')).toBeGreaterThan(3);
    expect(countTokens('')).toBe(0);
  });
});
