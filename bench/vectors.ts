// Clustered embeddings that behave like text embeddings (not uniform noise), and exact search over them.
import { gaussian, random } from '../test/search-fixtures.ts';

/**
 * The shape of the data, in cosine similarity (what text-embedding-3 shows on real corpora):
 * a shared direction makes unrelated chunks ~0.13 alike (embeddings are anisotropic), chunks of
 * one topic ~0.45, chunks of one document ~0.77; a query lands ~0.68 from its document's chunks.
 */
export const SHAPE = { shared: 0.45, docSpread: 1.0, chunkSpread: 0.6, querySpread: 0.9 } as const;

export interface Doc {
  /** 0-based document number; one document is one file. */
  index: number;
  topic: number;
  /** Equal-share attribute for filters: bucket < 10 keeps ~10 %, bucket = 42 keeps ~1 %. */
  bucket: number;
  chunks: Float32Array[];
}

export interface Corpus {
  dims: number;
  docs: Doc[];
  chunks: number;
  /** Queries: half aimed at one document (specific), half at a topic (broad, many near ties). */
  queries: Float32Array[];
}

/** Generates `chunks` chunk embeddings in documents of 1..19 chunks (mean ~10), 30 documents a topic. */
export function generateCorpus(opts: {
  dims: number;
  chunks: number;
  queries: number;
  seed: number;
}): Corpus {
  const { dims } = opts;
  const rand = random(opts.seed);
  const noise = (scale: number) => {
    const v = new Float64Array(dims);
    const s = scale / Math.sqrt(dims);
    for (let i = 0; i < dims; i++) v[i] = gaussian(rand) * s;
    return v;
  };
  const shared = unit(noise(1));
  const topicCount = Math.max(1, Math.round(opts.chunks / 300));
  const topics = Array.from({ length: topicCount }, () => unit(noise(1)));
  const docs: Doc[] = [];
  const docVectors: Float64Array[] = [];
  let total = 0;
  while (total < opts.chunks) {
    const index = docs.length;
    const topic = Math.floor(rand() * topicCount);
    const center = unit(add(topics[topic]!, noise(SHAPE.docSpread)));
    const size = Math.min(1 + Math.floor(rand() * 19), opts.chunks - total);
    const chunks = Array.from({ length: size }, () =>
      toHalf(unit(add(add(scaled(shared, SHAPE.shared), center), noise(SHAPE.chunkSpread)))),
    );
    docs.push({ index, topic, bucket: index % 100, chunks });
    docVectors.push(center);
    total += size;
  }
  const queries = Array.from({ length: opts.queries }, (_, i) => {
    const target =
      i % 2 === 0 ? docVectors[Math.floor(rand() * docVectors.length)]! : topics[i % topicCount]!;
    return toHalf(unit(add(add(scaled(shared, SHAPE.shared), target), noise(SHAPE.querySpread))));
  });
  return { dims, docs, chunks: total, queries };
}

/** pgvector's text form of a vector. */
export const vectorText = (v: Float32Array) => `[${Array.prototype.join.call(v, ',')}]`;

/** The k nearest ids by cosine distance among rows (float64 over the half-precision values stored). */
export function exactTopK(query: Float32Array, rows: { id: number; v: Float32Array }[], k: number): number[] {
  const best: { id: number; d: number }[] = [];
  const qn = norm(query);
  for (const row of rows) {
    let dot = 0;
    const v = row.v;
    for (let i = 0; i < v.length; i++) dot += query[i]! * v[i]!;
    const d = 1 - dot / (qn * norm(v));
    if (best.length < k || d < best[best.length - 1]!.d) {
      let at = best.length;
      while (at > 0 && best[at - 1]!.d > d) at--;
      best.splice(at, 0, { id: row.id, d });
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.id);
}

/** Mean cosine of pairs, for the docs: how alike the generated data is at each level. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot / (norm(a) * norm(b));
}

const norms = new WeakMap<Float32Array, number>();
function norm(v: Float32Array): number {
  let n = norms.get(v);
  if (n === undefined) {
    n = 0;
    for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
    n = Math.sqrt(n);
    norms.set(v, n);
  }
  return n;
}

function unit(v: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  n = Math.sqrt(n);
  return v.map((x) => x / n);
}

const add = (a: Float64Array, b: Float64Array) => a.map((x, i) => x + b[i]!);
const scaled = (a: Float64Array, s: number) => a.map((x) => x * s);

/** Rounded to half precision, so the database stores exactly these values and exact search agrees. */
function toHalf(v: Float64Array): Float32Array {
  return Float32Array.from(v, (x) => Math.f16round(x));
}
