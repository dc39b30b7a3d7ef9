/** A hybrid candidate: raw vector similarity and raw keyword (BM25) score, 0 for a signal that missed it. */
export type HybridCandidate = { content: string; createdAt: Date; vector: number; text: number };

export type HybridOptions = {
  maxResults: number;
  vectorWeight: number;
  textWeight: number;
  scoreThreshold: number | null;
  mmrLambda: number;
  halfLifeDays: number;
  now: Date;
};

export type ScoreDetails = { vector: number; text: number; temporal: number };
export type Ranked<T> = { item: T; score: number; details: ScoreDetails };

/** MAIA's defaults for hybrid search. */
export const HYBRID_DEFAULTS = { vectorWeight: 0.7, textWeight: 0.3, mmrLambda: 0.7, halfLifeDays: 30 };

/** Scales values to 0..1 by the range they span; all equal: 1 if positive, else 0. */
export function minMaxNormalize(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const span = hi - lo;
  if (span === 0) return values.map(() => (hi > 0 ? 1 : 0));
  return values.map((v) => (v - lo) / span);
}

const WORD = /[\p{L}\p{N}_]+/gu;
function tokenSet(text: string): Set<string> {
  return new Set(text.toLowerCase().match(WORD) ?? []);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let shared = 0;
  for (const t of a) if (b.has(t)) shared++;
  return shared / (a.size + b.size - shared);
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

/**
 * MAIA's hybrid ranking: min-max normalise both signals, fuse with the weights (normalised to sum 1;
 * all weight moves to the only signal present), drop what is under the threshold, pick the top
 * `maxResults` by MMR (Jaccard over words, on relevance), then multiply by a half-life decay on age.
 */
export function rankHybrid<T extends HybridCandidate>(
  candidates: readonly T[],
  opts: HybridOptions,
): Ranked<T>[] {
  if (candidates.length === 0) return [];
  let wv = opts.vectorWeight;
  let wt = opts.textWeight;
  const total = wv + wt;
  if (total > 0) {
    wv /= total;
    wt /= total;
  } else [wv, wt] = [1, 0];
  const vec = minMaxNormalize(candidates.map((c) => c.vector));
  const txt = minMaxNormalize(candidates.map((c) => c.text));
  if (!txt.some((t) => t !== 0)) [wv, wt] = [1, 0];
  else if (!vec.some((v) => v !== 0)) [wv, wt] = [0, 1];
  let pool = candidates.map((item, i) => ({
    item,
    vector: vec[i]!,
    text: txt[i]!,
    relevance: wv * vec[i]! + wt * txt[i]!,
    tokens: null as Set<string> | null,
  }));
  if (opts.scoreThreshold !== null) pool = pool.filter((c) => c.relevance >= opts.scoreThreshold!);
  pool.sort((a, b) => b.relevance - a.relevance);
  const selected =
    opts.mmrLambda >= 1 ? pool.slice(0, opts.maxResults) : mmr(pool, opts.mmrLambda, opts.maxResults);
  const decay = Math.LN2 / opts.halfLifeDays;
  return selected.map((c) => {
    const ageDays = Math.max((opts.now.getTime() - c.item.createdAt.getTime()) / 86_400_000, 0);
    const temporal = Math.exp(-decay * ageDays);
    return {
      item: c.item,
      score: round6(c.relevance * temporal),
      details: { vector: round6(c.vector), text: round6(c.text), temporal: round6(temporal) },
    };
  });
}

type Pooled = { item: HybridCandidate; relevance: number; tokens: Set<string> | null };

function mmr<P extends Pooled>(sorted: P[], lambda: number, k: number): P[] {
  const words = (p: P) => {
    p.tokens ??= tokenSet(p.item.content);
    return p.tokens;
  };
  const remaining = [...sorted];
  const selected: P[] = remaining.length ? [remaining.shift()!] : [];
  while (selected.length < k && remaining.length) {
    let best = 0;
    let bestScore = -Infinity;
    remaining.forEach((cand, i) => {
      let maxSim = 0;
      for (const s of selected) maxSim = Math.max(maxSim, jaccard(words(cand), words(s)));
      const score = lambda * cand.relevance - (1 - lambda) * maxSim;
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    });
    selected.push(remaining.splice(best, 1)[0]!);
  }
  return selected;
}
