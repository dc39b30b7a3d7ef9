import { describe, expect, it } from 'vitest';
import { HYBRID_DEFAULTS, type HybridCandidate, minMaxNormalize, rankHybrid } from './ranking.ts';

const now = new Date('2026-06-01T00:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
const opts = { ...HYBRID_DEFAULTS, maxResults: 10, scoreThreshold: null, now, mmrLambda: 1 };
const cand = (content: string, vector: number, text: number, age = 0): HybridCandidate => ({
  content,
  vector,
  text,
  createdAt: daysAgo(age),
});

describe('MAIA hybrid ranking', () => {
  it('min-max normalises, with MAIA’s rule for a flat signal', () => {
    expect(minMaxNormalize([2, 4, 6])).toEqual([0, 0.5, 1]);
    expect(minMaxNormalize([3, 3])).toEqual([1, 1]);
    expect(minMaxNormalize([0, 0])).toEqual([0, 0]);
    expect(minMaxNormalize([])).toEqual([]);
  });

  it('fuses 0.7/0.3 by default and normalises custom weights', () => {
    const r = rankHybrid([cand('a', 0.9, 0), cand('b', 0.5, 8), cand('c', 0.1, 4)], opts);
    // vector normalised: a 1, b 0.5, c 0; text: a 0, b 1, c 0.5
    expect(r.map((x) => [x.item.content, x.score])).toEqual([
      ['a', 0.7],
      ['b', 0.65],
      ['c', 0.15],
    ]);
    expect(r[1]!.details).toEqual({ vector: 0.5, text: 1, temporal: 1 });
    const w = rankHybrid([cand('a', 0.9, 0), cand('b', 0.5, 8)], { ...opts, vectorWeight: 1, textWeight: 3 });
    expect(w.map((x) => x.score)).toEqual([0.75, 0.25]);
  });

  it('moves all the weight to the only signal present', () => {
    const noText = rankHybrid([cand('a', 0.8, 0), cand('b', 0.4, 0)], opts);
    expect(noText.map((x) => x.score)).toEqual([1, 0]);
    const noVector = rankHybrid([cand('a', 0, 2), cand('b', 0, 5)], opts);
    expect(noVector.map((x) => [x.item.content, x.score])).toEqual([
      ['b', 1],
      ['a', 0],
    ]);
  });

  it('applies the threshold to relevance before decay, then decays by half-life', () => {
    const r = rankHybrid([cand('old', 0.9, 5, 30), cand('new', 0.1, 0, 0)], { ...opts, scoreThreshold: 0.5 });
    expect(r).toHaveLength(1);
    expect(r[0]!.details.temporal).toBe(0.5);
    expect(r[0]!.score).toBe(0.5);
    const short = rankHybrid([cand('x', 1, 1, 10)], { ...opts, halfLifeDays: 5 });
    expect(short[0]!.details.temporal).toBe(0.25);
    const future = rankHybrid([cand('x', 1, 1, -3)], opts);
    expect(future[0]!.details.temporal).toBe(1);
  });

  it('re-ranks by MMR: a near-duplicate gives way to a different passage', () => {
    const items = [
      cand('pasta sauce tomato basil garlic', 1, 1),
      cand('pasta sauce tomato basil garlic oil', 0.95, 0.95),
      cand('engine oil change interval', 0.6, 0.6),
    ];
    const pure = rankHybrid(items, { ...opts, maxResults: 2, mmrLambda: 1 });
    expect(pure.map((x) => x.item.content.split(' ')[0])).toEqual(['pasta', 'pasta']);
    const diverse = rankHybrid(items, { ...opts, maxResults: 2, mmrLambda: 0.3 });
    expect(diverse.map((x) => x.item.content.split(' ')[0])).toEqual(['pasta', 'engine']);
    expect(rankHybrid(items, { ...opts, maxResults: 5, mmrLambda: 0.5 })).toHaveLength(3);
  });
});
